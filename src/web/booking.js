// The booking page (预约登记): the hotline, a window or the manager books
// a half-hour slot for a resident by ID number, gives them the booking
// code, finds a resident's bookings (by ID number or code) to move or
// cancel them, and lists a day's bookings. The ID number is sent once per
// request and cleared from the form; the hall keeps only its keyed hash.
'use strict';

(() => {
  const { api, $, el, say } = GW;
  const KEY = 'greenwave.booking.token';
  const WEEKDAYS = ['日', '一', '二', '三', '四', '五', '六'];

  let token = null;
  let me = null;
  let rules = { today: null, last_day: null, early_minutes: 30 };
  let moving = null; // the booking being moved

  function dayWords(iso) {
    const [y, m, d] = iso.split('-').map(Number);
    const wd = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
    return `${m}月${d}日（周${WEEKDAYS[wd]}）`;
  }

  // Who booked, as staff say it.
  function actorWords(a) {
    if (a === 'hotline') return '预约热线';
    if (a === 'manager') return '管理员';
    const w = /^window:(\d+)$/.exec(a);
    return w ? `${w[1]} 号窗口` : a;
  }

  // `HH:MM` moved by `minutes`.
  function shift(hm, minutes) {
    const [h, m] = hm.split(':').map(Number);
    const t = h * 60 + m + minutes;
    return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, '0')}`;
  }

  // The services this token may book: a window's own, else all.
  function services() {
    if (me.role !== 'window') return me.services;
    const w = me.windows.find((x) => x.number === me.window);
    const mine = new Set(w ? w.services : []);
    return me.services.filter((s) => mine.has(s.code));
  }

  // The slots of `service` on `day` as radio buttons in `box`, named
  // `name`; a full or past slot is disabled. Only the latest request of a
  // box is drawn (a slow answer never overwrites a newer one).
  const drawn = new Map();
  async function drawSlots(box, name, service, day, msg) {
    const seq = (drawn.get(box) || 0) + 1;
    drawn.set(box, seq);
    if (!service || !day) {
      box.replaceChildren();
      return;
    }
    let v;
    try {
      v = await api('GET', `/api/bookings/slots?service=${encodeURIComponent(service)}&day=${day}`, token);
    } catch (e) {
      if (drawn.get(box) === seq) say(msg, e.message, 'error');
      return;
    }
    if (drawn.get(box) !== seq) return;
    rules = v;
    if (!v.slots.length) {
      box.replaceChildren(el('p', { class: 'msg' }, '这一天该业务不接受预约'));
      return;
    }
    box.replaceChildren(
      ...v.slots.map((s) => {
        const id = `${name}-${s.start.replace(':', '')}`;
        const free = s.capacity - s.booked;
        return el(
          'label',
          { class: s.open ? 'slot' : 'slot full', for: id },
          el('input', { type: 'radio', name, id, value: s.start, disabled: !s.open }),
          `${s.start}`,
          el('small', {}, s.open ? `剩 ${free}` : free > 0 ? '已过' : '约满'),
        );
      }),
    );
  }

  function chosen(name) {
    const r = document.querySelector(`input[name="${name}"]:checked`);
    return r ? r.value : null;
  }

  function refreshBookSlots() {
    return drawSlots($('book-slots'), 'book-slot', $('book-service').value, $('book-day').value, $('book-msg'));
  }

  async function book(e) {
    e.preventDefault();
    const slot = chosen('book-slot');
    if (!slot) {
      say($('book-msg'), '请选择时段', 'error');
      return;
    }
    say($('book-msg'), '');
    try {
      const b = await api('POST', '/api/bookings', token, {
        id_number: $('book-id').value.trim(),
        service: $('book-service').value,
        day: $('book-day').value,
        slot,
      });
      $('book-id').value = '';
      $('booked').hidden = false;
      $('booked-code').textContent = b.code;
      $('booked-what').textContent = `${b.service_name} · ${dayWords(b.day)} ${b.slot}–${b.slot_end}`;
      $('booked-id').textContent = `身份证 ${b.id_masked}`;
      $('booked-tell').textContent =
        `请居民记下预约码，${dayWords(b.day)} ${shift(b.slot, -rules.early_minutes)}–${shift(b.slot, rules.late_minutes)} 到大厅刷身份证取号`;
      await refreshBookSlots();
      await drawList();
    } catch (err) {
      $('booked').hidden = true;
      say($('book-msg'), err.message, 'error');
    }
  }

  function foundItem(b) {
    const item = el(
      'div',
      { class: 'case-item', dataset: { code: b.code } },
      el('div', {}, el('strong', {}, b.code), ` ${b.service_name} · ${dayWords(b.day)} ${b.slot}–${b.slot_end} · `,
        el('span', { class: 'status' }, b.status_label), b.ticket ? ` · ${b.ticket}` : ''),
    );
    if (b.status === 'booked') {
      item.append(
        el('div', { class: 'actions' },
          el('button', { type: 'button', class: 'move', onclick: () => openMove(b) }, '改约'),
          el('button', { type: 'button', class: 'danger cancel', onclick: () => cancel(b) }, '取消预约'),
        ),
      );
    }
    return item;
  }

  // From the form (`e`): a new search, the message cleared; after a move
  // or a cancellation: the list again under the message that says so.
  async function find(e) {
    if (e) {
      e.preventDefault();
      say($('find-msg'), '');
    }
    const key = $('find-key').value.trim();
    try {
      const list = /^[0-9]{6}$/.test(key)
        ? [await api('GET', `/api/bookings/${key}`, token)]
        : await api('POST', '/api/bookings/find', token, { id_number: key });
      $('found').replaceChildren(...list.map(foundItem));
      if (!list.length) say($('find-msg'), '没有今天及以后的预约');
    } catch (err) {
      $('found').replaceChildren();
      say($('find-msg'), err.message, 'error');
    }
  }

  async function cancel(b) {
    if (!confirm(`确认取消预约 ${b.code}（${b.service_name} ${dayWords(b.day)} ${b.slot}）？`)) return;
    try {
      await api('POST', `/api/bookings/${b.code}/cancel`, token, { reason: '居民要求取消' });
      say($('find-msg'), `预约 ${b.code} 已取消，名额已释放`, 'ok');
      $('find-key').value = b.code;
      await find();
      await drawList();
      await refreshBookSlots();
    } catch (err) {
      say($('find-msg'), err.message, 'error');
    }
  }

  function openMove(b) {
    moving = b;
    $('move-code').textContent = b.code;
    $('move-day').min = rules.today || '';
    $('move-day').max = rules.last_day || '';
    $('move-day').value = b.day;
    say($('move-msg'), '');
    drawSlots($('move-slots'), 'move-slot', b.service, b.day, $('move-msg'));
    $('dlg-move').showModal();
  }

  async function move(e) {
    e.preventDefault();
    const slot = chosen('move-slot');
    if (!slot) {
      say($('move-msg'), '请选择新时段', 'error');
      return;
    }
    try {
      const b = await api('POST', `/api/bookings/${moving.code}/move`, token, { day: $('move-day').value, slot });
      $('dlg-move').close();
      say($('find-msg'), `预约 ${b.code} 已改到 ${dayWords(b.day)} ${b.slot}`, 'ok');
      $('find-key').value = b.code;
      await find();
      await drawList();
      await refreshBookSlots();
    } catch (err) {
      say($('move-msg'), err.message, 'error');
    }
  }

  async function drawList() {
    const day = $('list-day').value;
    if (!day) return;
    const list = await api('GET', `/api/bookings?day=${day}`, token);
    $('list').replaceChildren(
      ...list.map((b) =>
        el('tr', { dataset: { code: b.code, status: b.status } },
          el('td', {}, `${b.slot}–${b.slot_end}`),
          el('td', {}, b.code),
          el('td', {}, b.service_name),
          el('td', {}, b.status_label),
          el('td', {}, b.ticket || '—'),
          el('td', {}, actorWords(b.booked_by))),
      ),
    );
    $('list-empty').hidden = list.length > 0;
  }

  // The page is shown (and says who is logged in) once it is ready: its
  // days and slots loaded, its controls listening.
  async function start(t, who) {
    token = t;
    me = who;
    $('hall').textContent = `${who.hall} · 预约登记`;
    $('logout').hidden = false;
    $('logout').addEventListener('click', () => GW.logout(KEY));
    $('book-service').replaceChildren(...services().map((s) => el('option', { value: s.code }, s.name)));
    const first = services()[0];
    if (first) rules = await api('GET', `/api/bookings/slots?service=${first.code}`, token);
    for (const input of [$('book-day'), $('list-day')]) {
      input.min = rules.today;
      input.max = rules.last_day;
      input.value = rules.today;
    }
    $('book-service').addEventListener('change', refreshBookSlots);
    $('book-day').addEventListener('change', refreshBookSlots);
    $('list-day').addEventListener('change', drawList);
    $('move-day').addEventListener('change', () =>
      drawSlots($('move-slots'), 'move-slot', moving.service, $('move-day').value, $('move-msg')));
    $('form-book').addEventListener('submit', book);
    $('form-find').addEventListener('submit', find);
    $('form-move').addEventListener('submit', move);
    $('move-cancel').addEventListener('click', () => $('dlg-move').close());
    await refreshBookSlots();
    await drawList();
    $('app').hidden = false;
    $('who').textContent = { hotline: '预约热线', manager: '管理员', window: `${who.window} 号窗口` }[who.role];
  }

  GW.login({
    key: KEY,
    role: ['hotline', 'manager', 'window'],
    roleError: '请使用预约热线、窗口或管理员的令牌登录',
    onReady: start,
  });
})();
