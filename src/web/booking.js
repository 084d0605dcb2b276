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

  // The services this token may book: a window's own, else all.
  function services() {
    if (me.role !== 'window') return me.services;
    const w = me.windows.find((x) => x.number === me.window);
    const mine = new Set(w ? w.services : []);
    return me.services.filter((s) => mine.has(s.code));
  }

  // The slots of `service` on `day` as radio buttons in `box`, named
  // `name`; a full or past slot is disabled.
  async function drawSlots(box, name, service, day, msg) {
    box.replaceChildren();
    if (!service || !day) return;
    let v;
    try {
      v = await api('GET', `/api/bookings/slots?service=${encodeURIComponent(service)}&day=${day}`, token);
    } catch (e) {
      say(msg, e.message, 'error');
      return;
    }
    rules = v;
    if (!v.slots.length) {
      box.append(el('p', { class: 'msg' }, '这一天该业务不接受预约'));
      return;
    }
    for (const s of v.slots) {
      const id = `${name}-${s.start.replace(':', '')}`;
      const free = s.capacity - s.booked;
      box.append(
        el(
          'label',
          { class: s.open ? 'slot' : 'slot full', for: id },
          el('input', { type: 'radio', name, id, value: s.start, disabled: !s.open }),
          `${s.start}`,
          el('small', {}, s.open ? `剩 ${free}` : free > 0 ? '已过' : '约满'),
        ),
      );
    }
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
        `请居民记下预约码，在 ${b.slot} 前 ${rules.early_minutes} 分钟内到大厅刷身份证取号`;
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

  async function find(e) {
    if (e) e.preventDefault();
    const key = $('find-key').value.trim();
    say($('find-msg'), '');
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
          el('td', {}, b.booked_by)),
      ),
    );
    $('list-empty').hidden = list.length > 0;
  }

  async function start(t, who) {
    token = t;
    me = who;
    $('hall').textContent = `${who.hall} · 预约登记`;
    $('who').textContent = { hotline: '预约热线', manager: '管理员', window: `${who.window} 号窗口` }[who.role];
    $('logout').hidden = false;
    $('logout').addEventListener('click', () => GW.logout(KEY));
    $('book-service').replaceChildren(...services().map((s) => el('option', { value: s.code }, s.name)));
    $('app').hidden = false;
    const first = services()[0];
    if (first) rules = await api('GET', `/api/bookings/slots?service=${first.code}`, token);
    for (const input of [$('book-day'), $('list-day')]) {
      input.min = rules.today;
      input.max = rules.last_day;
      input.value = rules.today;
    }
    await refreshBookSlots();
    await drawList();
    $('book-service').addEventListener('change', refreshBookSlots);
    $('book-day').addEventListener('change', refreshBookSlots);
    $('list-day').addEventListener('change', drawList);
    $('move-day').addEventListener('change', () =>
      drawSlots($('move-slots'), 'move-slot', moving.service, $('move-day').value, $('move-msg')));
    $('form-book').addEventListener('submit', book);
    $('form-find').addEventListener('submit', find);
    $('form-move').addEventListener('submit', move);
    $('move-cancel').addEventListener('click', () => $('dlg-move').close());
  }

  GW.login({
    key: KEY,
    role: ['hotline', 'manager', 'window'],
    roleError: '请使用预约热线、窗口或管理员的令牌登录',
    onReady: start,
  });
})();
