// The window console: one window's staff, keyboard first.
// F1 call next · F2 recall · F3 start · F4 finish · F5 no-show · F6 transfer
// F7 manual identification (priority ticket) · F8 pause/resume · F9 reprint
// · F10 a given number: call it, put a no-show back in line, enter a rating
'use strict';

(() => {
  const { api, $, el, say } = GW;
  const KEY = 'greenwave.console.token';

  let token = null;
  let me = null; // GET /api/me
  let queue = null; // the last QueueView
  let current = null; // {ticket, since, label} of this window's ticket
  let paused = false;

  const msg = $('msg');

  function serviceName(code) {
    const s = me.services.find((x) => x.code === code);
    return s ? s.name : code;
  }

  function myServices() {
    const w = me.windows.find((x) => x.number === me.window);
    return w ? w.services : [];
  }

  // ----- drawing ---------------------------------------------------------

  function drawWaiting() {
    const mine = myServices();
    const list = (queue ? queue.waiting : []).filter(
      (t) => mine.includes(t.service) && (t.target_window == null || t.target_window === me.window),
    );
    const body = $('waiting');
    body.replaceChildren(
      ...list.map((t) =>
        el(
          'tr',
          { class: t.lane === 'priority' ? 'priority' : '', dataset: { number: t.number } },
          el('td', { class: 'num' }, el('strong', {}, t.number)),
          el('td', {}, t.service_name, t.target_window ? ` → ${t.target_window} 号窗口` : ''),
          el('td', {}, GW.laneBadge(t.lane) || '普通'),
          el('td', { class: 'num wait', dataset: { since: t.issued_at_ms } }, GW.minutes(GW.now() - t.issued_at_ms)),
        ),
      ),
    );
    const priority = list.filter((t) => t.lane === 'priority').length;
    $('waiting-count').textContent = `（${list.length} 人，其中绿波 ${priority} 人）`;
    $('waiting-empty').hidden = list.length > 0;
  }

  function drawCurrent() {
    const has = current !== null;
    $('current-empty').hidden = has;
    $('current-ticket').hidden = !has;
    if (has) {
      const t = current.ticket;
      const n = $('current-number');
      n.textContent = t.number;
      n.classList.toggle('priority', t.lane === 'priority');
      $('current-state').textContent = t.state_label;
      $('current-service').textContent = t.service_name;
      $('current-lane').replaceChildren(GW.laneBadge(t.lane) || '');
    }
    facts(has ? current.ticket : null);
    $('btn-call').disabled = has || paused;
    for (const id of ['btn-recall', 'btn-start', 'btn-finish', 'btn-noshow', 'btn-transfer']) {
      $(id).disabled = !has;
    }
    if (has) {
      $('btn-start').disabled = current.ticket.state !== 'called';
      $('btn-recall').disabled = current.ticket.state !== 'called';
      $('btn-noshow').disabled = current.ticket.state !== 'called';
    }
    // The next sensible action is the highlighted one: 叫号 with nobody at
    // the window, 开始办理 once called, 办结 while serving.
    const state = has ? current.ticket.state : null;
    $('btn-call').classList.toggle('primary', !has && !paused);
    $('btn-start').classList.toggle('primary', state === 'called');
    $('btn-finish').classList.toggle('primary', state === 'serving');
    $('btn-pause').firstChild.textContent = paused ? '恢复叫号' : '暂停叫号';
    $('paused-note').hidden = !paused;
    tick();
  }

  // What the clerk should know about the ticket at the window, from its
  // timeline (read once per ticket and state): how long it waited, where
  // it was transferred from and why, its helper, the policies explained.
  let factsOf = null;
  async function facts(t) {
    const key = t ? `${t.number}/${t.state}/${t.transfers}` : null;
    if (key === factsOf) return;
    factsOf = key;
    if (!t) {
      $('current-facts').replaceChildren();
      return;
    }
    const items = [];
    if (t.called_at_ms) items.push(`已等候 ${GW.minutes(t.called_at_ms - t.issued_at_ms)}`);
    try {
      const d = await api('GET', `/api/tickets/${encodeURIComponent(t.number)}/timeline`, token);
      if (factsOf !== key) return;
      const moves = d.timeline.filter((e) => e.kind === 'transferred');
      const last = moves[moves.length - 1];
      if (last) {
        const from = last.window ? ` ${last.window} 号窗口` : '其他窗口';
        items.push(`由${from}转来${last.detail && last.detail.note ? `：${last.detail.note}` : ''}`);
      }
      if (d.case && d.case.helper_name) items.push(`协办员：${d.case.helper_name}`);
      const policies = d.timeline.filter((e) => e.kind === 'policy_explained').map((e) => e.detail.title);
      if (policies.length) items.push(`已讲解政策：${policies.join('、')}`);
    } catch (e) {
      // The facts are a help, not the call: leave what is known.
    }
    $('current-facts').replaceChildren(...items.map((x) => el('li', {}, x)));
  }

  // Once a second: elapsed time of the current ticket, waits in the list.
  function tick() {
    if (current) {
      const label = current.ticket.state === 'serving' ? '办理用时' : '呼叫后';
      $('current-elapsed').textContent = `${label} ${GW.clock(GW.now() - current.since)}`;
    }
    for (const td of document.querySelectorAll('#waiting td.wait')) {
      td.textContent = GW.minutes(GW.now() - Number(td.dataset.since));
    }
  }

  // ----- data --------------------------------------------------------------

  async function loadCurrent() {
    const w = queue && queue.windows.find((x) => x.number === me.window);
    paused = !!(w && w.paused);
    if (!w || !w.current) {
      current = null;
      return;
    }
    const h = await api('GET', '/api/tickets/' + encodeURIComponent(w.current), token);
    let since = h.ticket.called_at_ms || h.ticket.issued_at_ms;
    if (h.ticket.state === 'serving') {
      const started = h.history.filter((e) => e.kind === 'started').pop();
      if (started) since = started.at;
    }
    current = { ticket: h.ticket, since };
  }

  async function refresh() {
    try {
      queue = await api('GET', '/api/queue', token);
      await loadCurrent();
    } catch (e) {
      say(msg, e.message, 'error');
    }
    drawWaiting();
    drawCurrent();
  }
  const refreshSoon = GW.debounce(refresh, 80);

  // ----- actions -----------------------------------------------------------

  async function act(label, path, body) {
    try {
      const t = await api('POST', `/api/windows/${me.window}/${path}`, token, body || {});
      say(msg, `${label}：${t.number || ''}`.replace(/：$/, ''), 'ok');
      await refresh();
      return t;
    } catch (e) {
      say(msg, `${label}失败：${e.message}`, 'error');
      await refresh();
      return null;
    }
  }

  const actions = {
    F1: () => !$('btn-call').disabled && act('已呼叫', 'call'),
    F2: () => current && act('已重呼', 'recall'),
    F3: () => current && act('开始办理', 'start'),
    F4: () => current && act('已办结', 'finish'),
    F5: () => current && act('已标记未到', 'no-show'),
    F6: () => current && openTransfer(),
    F7: () => openManual(),
    F8: () => act(paused ? '已恢复叫号' : '已暂停叫号', paused ? 'resume' : 'pause'),
    F9: () => openReprint(),
    F10: () => openNumber(),
  };

  function openDialog(d, focus) {
    d.showModal();
    (focus || d.querySelector('input, select, textarea, button')).focus();
  }

  function openTransfer() {
    const t = current.ticket;
    $('transfer-number').textContent = t.number;
    const svc = $('transfer-service');
    svc.replaceChildren(...me.services.map((s) => el('option', { value: s.code }, s.name)));
    svc.value = t.service;
    fillTransferWindows();
    $('transfer-note').value = '';
    say($('transfer-msg'), '');
    openDialog($('dlg-transfer'), svc);
  }

  function fillTransferWindows() {
    const code = $('transfer-service').value;
    const opts = [el('option', { value: '' }, '不指定（该业务任一窗口）')];
    for (const w of me.windows) {
      if (w.services.includes(code) && w.number !== me.window) {
        opts.push(el('option', { value: String(w.number) }, `${w.number} 号窗口`));
      }
    }
    $('transfer-window').replaceChildren(...opts);
  }

  async function submitTransfer() {
    const body = { service: $('transfer-service').value };
    const w = $('transfer-window').value;
    if (w) body.window = Number(w);
    const note = $('transfer-note').value.trim();
    if (note) body.note = note;
    if (body.service === current.ticket.service && !body.window) {
      say($('transfer-msg'), '请换一个业务或指定窗口', 'error');
      return;
    }
    const t = await act('已转办', 'transfer', body);
    if (t) {
      say(msg, `已转办：${t.number} → ${serviceName(t.service)}${t.target_window ? `（${t.target_window} 号窗口）` : ''}`, 'ok');
      $('dlg-transfer').close();
    } else {
      say($('transfer-msg'), msg.textContent, 'error');
    }
  }

  function openManual() {
    const svc = $('manual-service');
    svc.replaceChildren(...myServices().map((c) => el('option', { value: c }, serviceName(c))));
    $('manual-id').value = '';
    $('manual-mode').value = 'issue';
    $('manual-ticket').value = current && current.ticket.lane !== 'priority' ? current.ticket.number : '';
    $('manual-uid').value = '';
    manualMode();
    $('manual-answer').hidden = true;
    say($('manual-msg'), '');
    openDialog($('dlg-manual'), $('manual-id'));
  }

  // What the check is for: a priority ticket, moving a normal ticket to
  // the green wave (it keeps its number), or binding a priority card.
  function manualMode() {
    const mode = $('manual-mode').value;
    for (const m of ['issue', 'upgrade', 'card']) $(`manual-for-${m}`).hidden = m !== mode;
    $('manual-ok').textContent = { issue: '核验并取号（Enter）', upgrade: '核验并转入绿波（Enter）', card: '核验并绑定（Enter）' }[mode];
  }

  function rosterLine(r) {
    const parts = [`身份证 ${r.id_masked}`, r.listed ? '在册' : '不在名单内'];
    if (r.category) parts.push(`类别：${r.category}`);
    if (r.valid_to) parts.push(`有效期至 ${r.valid_to}`);
    parts.push(r.grants_priority ? '符合绿波条件' : '不符合绿波条件');
    return parts.join(' · ');
  }

  async function submitManual() {
    const input = $('manual-id');
    const id = input.value.trim().toUpperCase();
    // The ID number leaves the page at once: not kept in the form.
    input.value = '';
    const answer = $('manual-answer');
    answer.hidden = true;
    if (!/^[0-9]{17}[0-9X]$/.test(id)) {
      say($('manual-msg'), '身份证号码应为 18 位', 'error');
      return;
    }
    const mode = $('manual-mode').value;
    try {
      let lines;
      if (mode === 'card') {
        const uid = $('manual-uid').value.trim().toUpperCase();
        const r = await api('POST', '/api/cards', token, { uid, id_number: id });
        lines = [el('div', {}, rosterLine(r)), el('div', { id: 'manual-bound' }, `已绑定绿波卡 ${uid}：刷卡即取绿波号`)];
      } else {
        const r = mode === 'upgrade'
          ? await api('POST', `/api/tickets/${encodeURIComponent($('manual-ticket').value.trim().toUpperCase())}/upgrade`, token, { id_number: id })
          : await api('POST', '/api/tickets/priority', token, { id_number: id, service: $('manual-service').value });
        lines = [
          el('div', {}, rosterLine(r.roster)),
          el('div', {}, mode === 'upgrade' ? '已转入绿波通道：' : '绿波号码：', el('strong', { id: 'manual-number' }, r.ticket.number), `（${r.ticket.state_label}）`),
        ];
      }
      answer.className = 'roster-answer';
      answer.replaceChildren(...lines);
      answer.hidden = false;
      say($('manual-msg'), '');
      refreshSoon();
    } catch (e) {
      answer.className = 'roster-answer refused';
      answer.textContent = e.code === 'not_granted' ? `未发绿波号：${e.message}` : e.message;
      answer.hidden = false;
    }
  }

  async function openReprint() {
    $('reprint-number').value = current ? current.ticket.number : '';
    say($('reprint-msg'), '');
    openDialog($('dlg-reprint'), $('reprint-number'));
    try {
      const list = await api('GET', '/api/reprints', token);
      $('reprint-list').textContent = list.length ? list.map((t) => t.number).join('、') : '无';
    } catch (e) {
      $('reprint-list').textContent = e.code === 'no_kiosk' ? '本机未启用自助取号' : e.message;
    }
  }

  async function submitReprint() {
    const n = $('reprint-number').value.trim().toUpperCase();
    if (!n) return;
    try {
      const r = await api('POST', `/api/tickets/${encodeURIComponent(n)}/reprint`, token);
      say($('reprint-msg'), r.printed ? `已补打 ${r.ticket.number}` : `补打失败：${r.error}`, r.printed ? 'ok' : 'error');
    } catch (e) {
      say($('reprint-msg'), e.message, 'error');
    }
  }

  // A given number: call it here, put a no-show back in line, or enter the
  // resident's rating of a finished ticket (no evaluator at the counter).
  function openNumber() {
    $('number-input').value = current ? current.ticket.number : '';
    $('number-comment').value = '';
    say($('number-msg'), '');
    openDialog($('dlg-number'), $('number-input'));
  }

  async function onNumber(what) {
    const n = $('number-input').value.trim().toUpperCase();
    if (!n) return;
    const path = encodeURIComponent(n);
    try {
      if (what === 'call') {
        await api('POST', `/api/windows/${me.window}/call`, token, { number: n });
        say($('number-msg'), `已呼叫 ${n}`, 'ok');
      } else if (what === 'rejoin') {
        await api('POST', `/api/tickets/${path}/rejoin`, token);
        say($('number-msg'), `${n} 已重新排队`, 'ok');
      } else if (what === 'withdraw') {
        const reason = $('number-cancel-reason').value;
        await api('POST', `/api/tickets/${path}/cancel`, token, { reason });
        say($('number-msg'), `${n} 已取消（原因：${reason}）`, 'ok');
      } else {
        const rating = $('number-rating').value;
        const comment = $('number-comment').value.trim() || null;
        await api('POST', `/api/tickets/${path}/rating`, token, { rating, comment });
        say($('number-msg'), `已录入 ${n} 的评价：${rating}`, 'ok');
      }
      refreshSoon();
    } catch (e) {
      say($('number-msg'), e.message, 'error');
    }
  }

  // ----- wiring ------------------------------------------------------------

  function wire() {
    for (const b of document.querySelectorAll('button[data-key]')) {
      b.addEventListener('click', () => actions[b.dataset.key]());
    }
    document.addEventListener('keydown', (e) => {
      if (!actions[e.key]) return;
      e.preventDefault(); // F1 help, F5 reload, ...: the console's keys here
      if (document.querySelector('dialog[open]') || $('app').hidden) return;
      actions[e.key]();
    });
    $('transfer-service').addEventListener('change', fillTransferWindows);
    $('manual-mode').addEventListener('change', manualMode);
    $('form-transfer').addEventListener('submit', (e) => {
      e.preventDefault();
      submitTransfer();
    });
    $('form-manual').addEventListener('submit', (e) => {
      e.preventDefault();
      submitManual();
    });
    $('form-reprint').addEventListener('submit', (e) => {
      e.preventDefault();
      submitReprint();
    });
    $('form-number').addEventListener('submit', (e) => {
      e.preventDefault();
      onNumber('call');
    });
    $('number-call').addEventListener('click', () => onNumber('call'));
    $('number-rejoin').addEventListener('click', () => onNumber('rejoin'));
    $('number-rate').addEventListener('click', () => onNumber('rate'));
    $('number-withdraw').addEventListener('click', () => onNumber('withdraw'));
    for (const name of ['transfer', 'manual', 'reprint', 'number']) {
      $(`${name}-cancel`).addEventListener('click', () => $(`dlg-${name}`).close());
    }
    // Back to the console's keys after a dialog.
    for (const d of document.querySelectorAll('dialog')) {
      d.addEventListener('close', () => {
        const b = document.querySelector('.keys button:not(:disabled)');
        if (b) b.focus();
      });
    }
    $('logout').addEventListener('click', () => GW.logout(KEY));
  }

  function start(t, who) {
    token = t;
    me = who;
    $('hall').textContent = `${me.hall} · 窗口叫号台`;
    $('who').textContent = `${me.window} 号窗口`;
    $('logout').hidden = false;
    $('app').hidden = false;
    wire();
    drawCurrent();
    GW.liveQueue(token, {
      onSnapshot: (q) => {
        queue = q;
        loadCurrent()
          .catch((e) => say(msg, e.message, 'error'))
          .then(() => {
            drawWaiting();
            drawCurrent();
          });
      },
      onEvent: () => refreshSoon(),
      onState: (up) => {
        $('offline').hidden = up;
      },
      onUnauthorized: () => GW.logout(KEY),
    });
    setInterval(tick, 1000);
    $('btn-call').focus();
  }

  GW.login({ key: KEY, role: 'window', roleError: '请使用窗口令牌或窗口密码登录叫号台', onReady: start, pin: true });
})();
