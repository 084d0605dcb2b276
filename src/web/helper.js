// The helper's view (协办员), phone-sized: my cases and the unassigned
// ones, a case's timeline, notes, policies explained, the rating, closing.
// Refreshes every 10 s and after every action.
'use strict';

(() => {
  const { api, $, el, say } = GW;
  const KEY = 'greenwave.helper.token';

  let token = null;
  let me = null;
  let onDuty = null;
  let policies = { departments: [], policies: [] };
  let open = null; // number of the case shown
  const callsSeen = new Set(); // residents' calls already signalled

  function fmtTime(ms) {
    return GW.timeOfDay(ms).slice(0, 5);
  }

  function caseRow(c, takeable) {
    return el(
      'div',
      { class: c.resident_called_at_ms ? 'case-item calling' : 'case-item', dataset: { number: c.number } },
      el(
        'div',
        {},
        el('div', { class: 'n' }, c.number, ' ', GW.laneBadge(c.lane)),
        el('div', { class: 'meta' }, `${c.service_name} · ${c.state_label}${c.window ? ` · ${c.window} 号窗口` : ''} · ${fmtTime(c.opened_at_ms)} 建档`),
      ),
      takeable
        ? el('button', { type: 'button', class: 'primary', onclick: () => take(c.number) }, '接手')
        : el('button', { type: 'button', onclick: () => show(c.number) }, '查看'),
    );
  }

  // The residents waiting for this helper (请协办员过来), most prominent;
  // the phone vibrates for a call it has not signalled yet.
  function drawCalls(mine) {
    const calling = mine.filter((c) => c.resident_called_at_ms);
    $('calls-list').replaceChildren(
      ...calling.map((c) =>
        el(
          'div',
          { class: 'call', dataset: { number: c.number } },
          el(
            'div',
            {},
            el('strong', { class: 'call-text' }, `居民请您过去 · ${c.number}`),
            el('div', { class: 'meta' }, `${c.service_name} · ${fmtTime(c.resident_called_at_ms)} 呼叫`),
          ),
          el('button', { type: 'button', class: 'primary', onclick: () => answer(c.number) }, '我这就过去'),
        ),
      ),
    );
    $('calls').hidden = calling.length === 0;
    const fresh = calling.filter((c) => !callsSeen.has(`${c.number}@${c.resident_called_at_ms}`));
    for (const c of fresh) callsSeen.add(`${c.number}@${c.resident_called_at_ms}`);
    // Only a page the helper has touched may vibrate (else the browser refuses).
    const active = !navigator.userActivation || navigator.userActivation.hasBeenActive;
    if (fresh.length && navigator.vibrate && active) navigator.vibrate([500, 200, 500]);
  }

  async function answer(number) {
    try {
      await api('POST', `/api/cases/${encodeURIComponent(number)}/answer`, token);
      say($(open ? 'c-msg' : 'msg'), `已回应 ${number}，请尽快过去`, 'ok');
    } catch (e) {
      say($(open ? 'c-msg' : 'msg'), e.message, 'error');
    }
    if (open) await show(open);
    else await loadList();
  }

  async function loadList() {
    try {
      const list = await api('GET', '/api/cases', token);
      const mine = list.filter((c) => c.helper === me.helper);
      drawCalls(mine);
      const free = list.filter((c) => !c.helper);
      $('mine').replaceChildren(...mine.map((c) => caseRow(c, false)));
      $('unassigned').replaceChildren(...free.map((c) => caseRow(c, true)));
      $('mine-empty').hidden = mine.length > 0;
      $('unassigned-empty').hidden = free.length > 0;
      const follow = await api('GET', '/api/cases/follow-ups', token);
      $('follow-card').hidden = follow.length === 0;
      $('follow-ups').replaceChildren(...follow.map((f) => el('div', { class: 'follow-up' },
        el('strong', {}, `${f.number} · ${f.day}`), ` ${f.reason_label}`, f.missing ? `：缺少${f.missing}` : '')));
      $('offline').hidden = true;
    } catch (e) {
      if (e.status === 0) $('offline').hidden = false;
      else say($('msg'), e.message, 'error');
    }
  }

  function drawDuty() {
    $('duty-state').textContent = onDuty === null ? '—' : onDuty ? '在岗' : '未上岗';
    $('duty').textContent = onDuty ? '下岗' : '上岗';
  }

  async function setDuty(on) {
    try {
      const r = await api('POST', '/api/helpers/me/duty', token, { on });
      onDuty = r.on_duty;
      const got = r.assigned.filter((a) => a.helper === me.helper).map((a) => a.number);
      say($('msg'), onDuty ? `已上岗${got.length ? `，分到 ${got.join('、')}` : ''}` : '已下岗（手上的协办仍归您）', 'ok');
      drawDuty();
      await loadList();
    } catch (e) {
      say($('msg'), e.message, 'error');
    }
  }

  async function take(number) {
    try {
      await api('POST', `/api/cases/${encodeURIComponent(number)}/take`, token, {});
      say($('msg'), `已接手 ${number}`, 'ok');
      await show(number);
    } catch (e) {
      say($('msg'), e.message, 'error');
      await loadList();
    }
  }

  function timelineItem(e) {
    let text = e.label;
    const d = e.detail || {};
    if (e.window) text += ` · ${e.window} 号窗口`;
    if (d.text) text += `：${d.text}`;
    if (d.title) text += `：${d.title}`;
    if (d.rating) text += `：${d.rating}${d.comment ? `（${d.comment}）` : ''}`;
    if (d.helper) text += `：${d.helper === me.helper ? me.name || d.helper : d.helper}`;
    if (d.to_service) {
      const s = me.services.find((x) => x.code === d.to_service);
      text += ` → ${s ? s.name : d.to_service}${d.to_window ? `（${d.to_window} 号窗口）` : ''}`;
    }
    return el('li', {}, el('time', {}, fmtTime(e.at_ms)), text);
  }

  function drawPolicies(explained) {
    const box = $('c-policies');
    const parts = [];
    for (const dept of policies.departments) {
      const mine = policies.policies.filter((p) => p.department === dept.id);
      if (!mine.length) continue;
      parts.push(el('div', { class: 'dept' }, dept.name));
      for (const p of mine) {
        const done = explained.has(p.id);
        parts.push(
          el(
            'div',
            { class: 'policy' },
            el('input', { type: 'checkbox', id: `p-${p.id}`, value: p.id, checked: done, disabled: done }),
            ' ',
            el('label', { for: `p-${p.id}` }, p.title, done ? '（已讲解）' : ''),
            el(
              'details',
              {},
              el('summary', {}, '政策详情'),
              el(
                'dl',
                {},
                el('dt', {}, '适用对象'), el('dd', {}, p.eligibility),
                el('dt', {}, '申请方式'), el('dd', {}, p.how_to_apply),
                el('dt', {}, '保障内容'), el('dd', {}, p.benefit),
                el('dt', {}, '保障标准'), el('dd', {}, p.standard),
                el('dt', {}, '咨询电话'), el('dd', {}, p.phone),
              ),
            ),
          ),
        );
      }
    }
    if (!parts.length) parts.push(el('p', {}, '本大厅未配置政策清单'));
    box.replaceChildren(...parts);
  }

  // One task at a time: the bottom bar's tab chooses the pane.
  function showTab(name) {
    say($('c-msg'), '');
    for (const p of document.querySelectorAll('#case-view .pane')) p.hidden = p.dataset.pane !== name;
    for (const b of document.querySelectorAll('#case-view [data-tab]')) {
      b.setAttribute('aria-selected', String(b.dataset.tab === name));
    }
    window.scrollTo(0, 0);
  }

  // A tab's label with what is done there: 政策 2 (explained), 评价 ✓.
  function tabMark(id, label, mark) {
    $(id).replaceChildren(label, mark ? el('span', { class: 'mark' }, mark) : '');
  }

  async function show(number) {
    const fresh = open !== number;
    open = number;
    let d;
    try {
      d = await api('GET', `/api/cases/${encodeURIComponent(number)}`, token);
    } catch (e) {
      say($('msg'), e.message, 'error');
      open = null;
      return;
    }
    $('list-view').hidden = true;
    $('case-view').hidden = false;
    if (fresh) showTab('overview');
    const c = d.case;
    const t = d.ticket;
    $('c-number').textContent = t.number;
    $('c-lane').replaceChildren(GW.laneBadge(t.lane) || '');
    $('c-state-line').textContent = t.state_label;
    $('c-facts').replaceChildren(
      el('div', {}, `业务：${t.service_name}`),
      el('div', {}, `状态：`, el('strong', { id: 'c-state' }, t.state_label), t.window ? ` · ${t.window} 号窗口` : ''),
      el('div', {}, `协办员：${c && c.helper_name ? c.helper_name : '待分配'} · ${c && c.status === 'closed' ? '已结案' : '进行中'}`),
    );
    const e = d.earlier;
    $('c-earlier').hidden = !e;
    if (e) {
      $('c-earlier-facts').replaceChildren(
        el('div', {}, `${e.day} · ${e.number} · 协办员：${e.helper_name || '—'}`),
        el('div', {}, el('strong', {}, e.reason_label), e.missing ? `：缺少材料：${e.missing}` : ''),
      );
      $('c-earlier-notes').replaceChildren(...e.notes.map((n) => el('li', {}, n)));
    }
    $('c-call').hidden = !(c && c.resident_called_at_ms);
    $('c-call-text').textContent = c && c.resident_called_at_ms ? `居民请您过去 · ${t.number}（${fmtTime(c.resident_called_at_ms)} 呼叫）` : '';
    $('c-timeline').replaceChildren(...d.timeline.map(timelineItem));
    const explained = new Set(d.timeline.filter((e) => e.detail && e.detail.policy).map((e) => e.detail.policy));
    // A periodic refresh keeps the boxes being ticked; a new case or a
    // recorded explanation redraws them.
    const key = `${t.number}:${[...explained].sort().join(',')}`;
    if ($('c-policies').dataset.key !== key) {
      $('c-policies').dataset.key = key;
      drawPolicies(explained);
    }
    tabMark('tab-policies', '政策', explained.size ? String(explained.size) : '');
    tabMark('tab-rating', '评价', d.rating ? '✓' : '');
    tabMark('tab-close', '结案', c && c.status === 'closed' ? '✓' : '');
    const finished = t.state === 'done';
    if (d.rating) {
      $('rating-state').textContent = `已评价：${d.rating.rating}${d.rating.comment ? `（${d.rating.comment}）` : ''}`;
      $('rating-form').hidden = true;
    } else {
      $('rating-state').textContent = finished ? '请居民评价本次服务' : '业务办结后可评价';
      $('rating-form').hidden = !finished;
    }
    const closed = c && c.status === 'closed';
    $('close-case').disabled = closed;
    for (const f of ['f-note', 'f-policies']) {
      for (const x of $(f).elements) {
        if (x.type === 'checkbox') x.disabled = closed || explained.has(x.value);
        else x.disabled = closed;
      }
    }
  }

  async function caseAct(label, path, body) {
    try {
      await api('POST', `/api/cases/${encodeURIComponent(open)}/${path}`, token, body);
      await show(open);
      say($('c-msg'), label, 'ok');
      return true;
    } catch (e) {
      say($('c-msg'), e.message, 'error');
      return false;
    }
  }

  async function rate(rating) {
    const comment = $('c-comment').value.trim();
    const body = { rating };
    if (comment) body.comment = comment;
    try {
      await api('POST', `/api/tickets/${encodeURIComponent(open)}/rating`, token, body);
      $('c-comment').value = '';
      await show(open);
      say($('c-msg'), `已记录评价：${rating}`, 'ok');
    } catch (e) {
      say($('c-msg'), e.message, 'error');
    }
  }

  function back() {
    open = null;
    $('case-view').hidden = true;
    $('list-view').hidden = false;
    say($('c-msg'), '');
    loadList();
  }

  function wire() {
    $('duty').addEventListener('click', () => setDuty(!onDuty));
    $('back').addEventListener('click', back);
    for (const b of document.querySelectorAll('#case-view [data-tab]')) {
      b.addEventListener('click', () => showTab(b.dataset.tab));
    }
    $('c-answer').addEventListener('click', () => answer(open));
    $('f-note').addEventListener('submit', async (e) => {
      e.preventDefault();
      const text = $('c-note').value.trim();
      if (text && (await caseAct('已保存记录', 'notes', { text }))) $('c-note').value = '';
    });
    $('f-policies').addEventListener('submit', (e) => {
      e.preventDefault();
      const ids = [...$('c-policies').querySelectorAll('input[type=checkbox]:checked:not(:disabled)')].map((x) => x.value);
      if (!ids.length) {
        say($('c-msg'), '请先勾选已讲解的政策', 'error');
        return;
      }
      caseAct(`已记录 ${ids.length} 项政策讲解`, 'policies', { ids });
    });
    for (const b of document.querySelectorAll('[data-rating]')) {
      b.addEventListener('click', () => rate(b.dataset.rating));
    }
    $('close-outcome').addEventListener('change', () => {
      const missing = $('close-outcome').value === 'missing_documents';
      $('close-missing').hidden = !missing;
      $('close-missing-label').hidden = !missing;
    });
    $('close-case').addEventListener('click', () => {
      const outcome = $('close-outcome').value;
      const body = { outcome };
      const missing = $('close-missing').value.trim();
      if (outcome === 'missing_documents' && missing) body.missing = missing;
      const label = { done: '已结案', missing_documents: '已结案（待补材料）', pending_review: '已结案（待审核）' }[outcome];
      caseAct(label, 'close', body);
    });
    $('logout').addEventListener('click', () => GW.logout(KEY));
  }

  async function start(t, who) {
    token = t;
    me = who;
    $('hall').textContent = `${me.hall} · 全程协办`;
    $('who').textContent = me.name || me.helper;
    $('logout').hidden = false;
    $('app').hidden = false;
    wire();
    onDuty = !!me.on_duty;
    drawDuty();
    try {
      policies = await api('GET', '/api/policies', token);
    } catch (e) {
      say($('msg'), e.message, 'error');
    }
    await loadList();
    setInterval(() => {
      if (open) show(open);
      else loadList();
    }, 10000);
  }

  GW.login({ key: KEY, role: 'helper', roleError: '请使用协办员令牌登录', onReady: start });
})();
