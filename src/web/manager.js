// The manager's overview: queue lengths and waits per service and lane,
// windows and their state, helpers and cases, today's figures. Live from
// the event stream (queue and tickets); helpers and cases every 15 s.
'use strict';

(() => {
  const { api, $, el, say } = GW;
  const KEY = 'greenwave.manager.token';

  let token = null;
  let me = null;
  let queue = null;
  let tickets = [];
  let helperList = []; // GET /api/helpers, for names in the figures

  const LANES = [['priority', '绿波'], ['appointment', '预约'], ['normal', '普通']];
  const WAITING = { priority: 'priority_waiting', appointment: 'appointment_waiting', normal: 'normal_waiting' };

  function serviceName(code) {
    const s = me.services.find((x) => x.code === code);
    return s ? s.name : code;
  }

  function figure(k, v, id) {
    return el('div', { class: 'figure' }, el('div', { class: 'v', id }, v), el('div', { class: 'k' }, k));
  }

  // Today's figures: from GET /api/stats (the figures of `greenwave stats`,
  // its 合计 row for today) where the daemon has it; otherwise counted
  // from the day's tickets (GET /api/tickets).
  let stats = null; // the 合计 row, or null
  let statsMissing = false;
  let bookings = []; // today's appointments (GET /api/bookings)

  async function loadStats() {
    if (statsMissing || !queue) return;
    try {
      const rows = await api('GET', `/api/stats?from=${queue.day}&to=${queue.day}`, token);
      stats = (Array.isArray(rows) && rows.find((r) => r.key === '合计')) || null;
      bookings = await api('GET', `/api/bookings?day=${queue.day}`, token).catch(() => []);
    } catch (e) {
      // An older daemon: no such route. Other errors: try again later.
      if (e.status === 404) statsMissing = true;
      stats = null;
    }
    drawFigures();
  }
  const statsSoon = GW.debounce(loadStats, 1500);

  function pct(x) {
    return `${Math.round(x * 100)}%`;
  }

  function drawFigures() {
    const count = (f) => tickets.filter(f).length;
    const waiting = queue ? queue.waiting.length : count((t) => t.state === 'waiting' || t.state === 'transferred');
    let figs;
    if (stats) {
      const f = stats;
      figs = [
        figure('今日取号', f.issued, 'fig-issued'),
        figure('绿波号', `${f.priority}（${pct(f.priority_share)}）`, 'fig-priority'),
        figure('等候中', waiting, 'fig-waiting'),
        figure('已办结', f.served, 'fig-done'),
        figure('过号', f.no_show, 'fig-noshow'),
        figure('转办', f.transferred, 'fig-transfers'),
        figure('平均等候 / P90', f.wait && f.wait.count ? `${Math.round(f.wait.mean_s / 60)} / ${Math.round(f.wait.p90_s / 60)} 分钟` : '—', 'fig-wait'),
        figure('协办案件（已结）', `${f.cases}（${f.cases_closed}）`, 'fig-cases'),
        figure('政策讲解', f.policies_explained, 'fig-policies'),
        // The resident's own ratings; `—`, never 0 %, while there are none.
        figure('居民评价 / 满意率', `${f.resident.ratings} / ${f.resident.satisfaction_rate === null ? '—' : pct(f.resident.satisfaction_rate)}`, 'fig-ratings'),
        figure('工作人员录入评价', f.ratings ? `${f.ratings} / ${pct(f.satisfaction_rate)}` : '0', 'fig-staff-ratings'),
        figure('身份证 / 绿波卡 / 人工核验', `${f.by_id_card} / ${f.by_priority_card} / ${f.by_manual}`, 'fig-cards'),
      ];
      // Today's appointments, while the hall takes any: kept, late, missed.
      const live = bookings.filter((b) => b.status !== 'cancelled');
      if (live.length) {
        const n = (s) => live.filter((b) => b.status === s).length;
        figs.push(figure('今日预约：按时到 / 迟到 / 未到', `${live.length}：${n('kept')} / ${n('late')} / ${n('missed')}`, 'fig-bookings'));
      }
      $('figures-note').textContent = '数据来自统计接口（与 greenwave stats 一致）；等候中为实时数。';
    } else {
      const issued = tickets.length;
      const priority = count((t) => t.lane === 'priority');
      const called = tickets.filter((t) => t.called_at_ms);
      const meanWait = called.length
        ? called.reduce((a, t) => a + (t.called_at_ms - t.issued_at_ms), 0) / called.length
        : null;
      figs = [
        figure('今日取号', issued, 'fig-issued'),
        figure('绿波号', `${priority}（${issued ? Math.round((priority * 100) / issued) : 0}%）`, 'fig-priority'),
        figure('等候中', waiting, 'fig-waiting'),
        figure('已办结', count((t) => t.state === 'done'), 'fig-done'),
        figure('过号', count((t) => t.state === 'no_show'), 'fig-noshow'),
        figure('转办次数', tickets.reduce((a, t) => a + t.transfers, 0), 'fig-transfers'),
        figure('已取消/过期', count((t) => t.state === 'cancelled' || t.state === 'expired'), 'fig-cancelled'),
        figure('平均等候（取号至呼叫）', meanWait === null ? '—' : `${Math.round(meanWait / 60000)} 分钟`, 'fig-wait'),
      ];
      $('figures-note').textContent = '按今日号票实时计算；完整统计（各时段、各窗口、百分位）见 greenwave stats。';
    }
    $('figures').classList.toggle('six', figs.length > 8);
    $('figures').replaceChildren(...figs);
  }

  function drawServices() {
    const rows = [];
    for (const s of queue.services) {
      for (const [lane, label] of LANES) {
        const w = queue.waiting.filter((t) => t.service === s.code && t.lane === lane);
        // The appointment lane shows while someone waits in it.
        if (lane === 'appointment' && !s.appointment_waiting) continue;
        const waits = w.map((t) => GW.now() - t.issued_at_ms);
        rows.push(
          el(
            'tr',
            { class: lane === 'priority' ? 'priority' : '', dataset: { service: s.code, lane } },
            el('td', {}, s.name),
            el('td', {}, GW.laneBadge(lane) || label),
            el('td', { class: 'num count' }, s[WAITING[lane]] || 0),
            el('td', { class: 'num' }, waits.length ? GW.minutes(Math.max(...waits)) : '—'),
            el('td', { class: 'num' }, waits.length ? GW.minutes(waits.reduce((a, b) => a + b, 0) / waits.length) : '—'),
          ),
        );
      }
    }
    $('services').replaceChildren(...rows);
  }

  function drawWindows() {
    $('windows').replaceChildren(
      ...queue.windows.map((w) => {
        const conf = me.windows.find((x) => x.number === w.number);
        const t = w.current ? tickets.find((x) => x.number === w.current) : null;
        let state = w.paused ? '暂停' : '空闲';
        if (t) state = t.state_label + (w.paused ? '（暂停）' : '');
        return el(
          'tr',
          { dataset: { window: w.number } },
          el('td', {}, `${w.number} 号`),
          el('td', {}, conf ? conf.services.map(serviceName).join('、') : ''),
          el('td', { class: 'state' }, w.paused ? el('span', { class: 'badge warn' }, state) : state),
          el('td', {}, w.current || '—', ' ', t ? GW.laneBadge(t.lane) : ''),
          el('td', { class: 'num' }, t && t.called_at_ms ? GW.clock(GW.now() - t.called_at_ms) : ''),
          el(
            'td',
            {},
            el('button', { type: 'button', class: 'pause', 'data-window': w.number, 'data-op': w.paused ? 'resume' : 'pause' }, w.paused ? '恢复叫号' : '暂停叫号'),
          ),
        );
      }),
    );
  }

  function draw() {
    if (!queue) return;
    $('day').textContent = `营业日 ${queue.day}`;
    drawFigures();
    drawServices();
    drawWindows();
  }

  async function refresh() {
    try {
      [queue, tickets] = await Promise.all([api('GET', '/api/queue', token), api('GET', '/api/tickets', token)]);
      draw();
      statsSoon();
      // The period starts on the hall's service day, which only the queue
      // knows (the browser's date may be another day in another zone).
      if (!periodStarted) startPeriod();
    } catch (e) {
      say($('msg'), e.message, 'error');
    }
  }
  const refreshSoon = GW.debounce(refresh, 150);

  async function loadStaff() {
    try {
      const [helpers, cases] = await Promise.all([api('GET', '/api/helpers', token), api('GET', '/api/cases', token)]);
      helperList = helpers;
      // An open case can go to another helper: a choice of every helper,
      // the current one selected.
      const assign = (c) =>
        c.status !== 'open' || helpers.length < 2
          ? c.helper_name || el('span', { class: 'badge warn' }, '待分配')
          : el(
            'select',
            { class: 'reassign', 'data-number': c.number, 'aria-label': `${c.number} 的协办员` },
            c.helper ? null : el('option', { value: '', selected: true }, '待分配'),
            ...helpers.map((h) => el('option', { value: h.id, selected: h.id === c.helper }, `${h.name}${h.on_duty ? '' : '（未上岗）'}`)),
          );
      $('helpers').replaceChildren(
        ...(helpers.length
          ? helpers.map((h) =>
            el('tr', {}, el('td', {}, h.name), el('td', {}, h.on_duty ? '在岗' : '未上岗'), el('td', { class: 'num' }, h.open_cases)))
          : [el('tr', {}, el('td', { colspan: 3 }, '未配置协办员'))]),
      );
      $('cases').replaceChildren(
        ...(cases.length
          ? cases.map((c) =>
            el(
              'tr',
              { dataset: { number: c.number } },
              el('td', {}, c.number, ' ', GW.laneBadge(c.lane)),
              el('td', {}, c.service_name),
              el('td', {}, c.state_label, c.window ? ` · ${c.window} 号窗口` : ''),
              el('td', { class: 'helper' }, assign(c)),
              el('td', {}, c.status === 'open' ? '进行中' : '已结案'),
            ))
          : [el('tr', {}, el('td', { colspan: 5 }, '今日暂无协办案件'))]),
      );
    } catch (e) {
      say($('msg'), e.message, 'error');
    }
  }

  const staffSoon = GW.debounce(loadStaff, 500);

  // The manager gives an open case to another helper.
  $('cases').addEventListener('change', async (e) => {
    const sel = e.target.closest('select.reassign');
    if (!sel || !sel.value) return;
    const name = sel.selectedOptions[0].textContent;
    try {
      await api('POST', `/api/cases/${sel.dataset.number}/take`, token, { helper: sel.value });
      say($('msg'), `${sel.dataset.number} 已改由 ${name} 协办`, 'ok');
    } catch (err) {
      say($('msg'), err.message, 'error');
    }
    loadStaff();
  });

  // The hall's kiosk machines ([[kiosks]]): each one's last contact and
  // devices, every 5 s; one not heard from for 20 s is shown as offline.
  const DEVICES = { id_reader: '身份证读卡器', pcsc: '优先卡读卡器', printer: '打印机' };

  function kioskRow(k) {
    const state = k.up
      ? el('span', { class: 'badge green' }, '在线')
      : el('span', { class: 'badge warn' }, k.last_contact_ms ? '离线' : '从未连接');
    const last = k.last_contact_ms
      ? `${GW.timeOfDay(k.last_contact_ms)}（${k.seconds_since} 秒前）`
      : '—';
    const devices = Object.entries(k.devices || {});
    const devs = !k.up
      ? '未知'
      : devices.length
        ? devices.map(([d, up]) => `${DEVICES[d] || d}${up ? '正常' : '故障'}`).join('，')
        : '—';
    return el('tr', { 'data-kiosk': k.id }, el('td', {}, k.name), el('td', {}, state), el('td', {}, last), el('td', {}, devs));
  }

  // Unhappy ratings (不满意, 非常不满意), so the hall calls the resident
  // back the same day; every 5 s. The manager marks each handled with a
  // note.
  const SOURCES = { resident_window: '窗口评价器', resident_phone: '居民手机', staff: '工作人员录入' };

  function alertRow(a) {
    const who = [a.window ? `${a.window} 号窗口` : '—', a.helper ? `协办员 ${a.helper}` : null].filter(Boolean).join(' · ');
    const handled = a.handled
      ? el('span', {}, el('span', { class: 'badge green' }, '已处理'), ` ${a.handled.note}（${GW.timeOfDay(a.handled.at_ms)}）`)
      : el(
          'form',
          { class: 'handle', 'data-ticket': a.ticket_id },
          el('input', { type: 'text', name: 'note', placeholder: '处理情况，如：已电话回访', required: true, maxlength: 500 }),
          el('button', { type: 'submit' }, '标记已处理'),
        );
    return el(
      'tr',
      { 'data-number': a.number, class: a.handled ? '' : 'open' },
      el('td', {}, GW.timeOfDay(a.at_ms)),
      el('td', {}, a.number, ' ', el('span', { class: 'note' }, a.service_name)),
      el('td', {}, who),
      el('td', {}, el('span', { class: 'badge warn' }, a.rating), el('div', { class: 'note' }, SOURCES[a.source] || a.source)),
      el('td', {}, a.comment || '—'),
      el('td', {}, handled),
    );
  }

  async function loadAlerts() {
    try {
      const alerts = await api('GET', '/api/alerts', token);
      $('alerts-card').hidden = alerts.length === 0;
      // Keep a note being typed: redraw only when something changed.
      const sig = JSON.stringify(alerts.map((a) => [a.ticket_id, !!a.handled]));
      if (sig !== $('alerts').dataset.sig) {
        $('alerts').dataset.sig = sig;
        $('alerts').replaceChildren(...alerts.map(alertRow));
      }
    } catch (e) {
      say($('msg'), e.message, 'error');
    }
  }

  $('alerts').addEventListener('submit', async (e) => {
    e.preventDefault();
    const form = e.target;
    const note = form.elements.note.value.trim();
    if (!note) return;
    try {
      await api('POST', `/api/alerts/${form.dataset.ticket}/handled`, token, { note });
      await loadAlerts();
    } catch (err) {
      say($('msg'), err.message, 'error');
    }
  });

  // The manager acts for any window: pause and resume its calling.
  $('windows').addEventListener('click', async (e) => {
    const b = e.target.closest('button.pause');
    if (!b) return;
    b.disabled = true;
    try {
      await api('POST', `/api/windows/${b.dataset.window}/${b.dataset.op}`, token);
      say($('msg'), `${b.dataset.window} 号窗口已${b.dataset.op === 'pause' ? '暂停叫号' : '恢复叫号'}`, 'ok');
      refreshSoon();
    } catch (err) {
      say($('msg'), err.message, 'error');
      b.disabled = false;
    }
  });

  // Tickets whose print failed (the kiosk out of paper...), with 补打 at
  // this machine's kiosk printer once it works again; every 15 s. Shown
  // only on a machine with a kiosk printer.
  async function loadReprints() {
    try {
      const list = await api('GET', '/api/reprints', token);
      $('reprints-card').hidden = list.length === 0;
      $('reprints').replaceChildren(
        ...list.map((t) =>
          el(
            'tr',
            { dataset: { number: t.number } },
            el('td', {}, t.number, ' ', GW.laneBadge(t.lane)),
            el('td', {}, t.service_name),
            el('td', {}, t.state_label),
            el('td', {}, el('button', { type: 'button', class: 'reprint', 'data-number': t.number }, '补打')),
          ),
        ),
      );
    } catch (e) {
      // 409: no kiosk printer on this machine; nothing to show.
      if (e.status !== 409) say($('msg'), e.message, 'error');
      $('reprints-card').hidden = true;
    }
  }

  $('reprints').addEventListener('click', async (e) => {
    const b = e.target.closest('button.reprint');
    if (!b) return;
    b.disabled = true;
    try {
      const r = await api('POST', `/api/tickets/${b.dataset.number}/reprint`, token);
      if (r.printed) say($('msg'), `已补打 ${b.dataset.number}`, 'ok');
      else say($('msg'), `${b.dataset.number} 未能补打：${r.error || '打印机故障'}`, 'error');
      await loadReprints();
    } catch (err) {
      say($('msg'), err.message, 'error');
      b.disabled = false;
    }
  });

  async function loadKiosks() {
    try {
      const kiosks = await api('GET', '/api/kiosks', token);
      $('kiosks-card').hidden = kiosks.length === 0;
      $('kiosks').replaceChildren(...kiosks.map(kioskRow));
    } catch (e) {
      say($('msg'), e.message, 'error');
    }
  }

  // ----- cancel a ticket, with a reason ------------------------------------
  // POST /api/tickets/{number}/cancel after a confirmation that names the
  // ticket as it stands; GET /api/cancellations lists today's, with who
  // and why (the journal's record).
  function byName(by) {
    if (!by) return '—';
    if (by === 'manager') return '管理员';
    if (by.startsWith('window:')) return `${by.slice(7)} 号窗口`;
    if (by.startsWith('kiosk:')) return `自助机 ${by.slice(6)}`;
    return by;
  }

  function cancelReason() {
    const r = $('cancel-reason').value;
    return r || $('cancel-other').value.trim();
  }

  async function loadCancellations() {
    try {
      const list = await api('GET', '/api/cancellations', token);
      $('cancellations-table').hidden = list.length === 0;
      $('cancellations').replaceChildren(
        ...list.map((c) =>
          el(
            'tr',
            { dataset: { number: c.number } },
            el('td', {}, GW.timeOfDay(c.at_ms)),
            el('td', {}, c.number),
            el('td', {}, c.service_name),
            el('td', {}, byName(c.by)),
            el('td', {}, c.reason || '（未记录）'),
          ),
        ),
      );
    } catch (e) {
      say($('cancel-msg'), e.message, 'error');
    }
  }

  $('cancel-reason').addEventListener('change', () => {
    const other = $('cancel-reason').value === '';
    $('cancel-other-label').hidden = !other;
    $('cancel-other').required = other;
    if (other) $('cancel-other').focus();
  });

  $('cancel-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const n = $('cancel-number').value.trim().toUpperCase();
    if (!cancelReason()) {
      say($('cancel-msg'), '请填写取消原因', 'error');
      return;
    }
    let t;
    try {
      t = (await api('GET', `/api/tickets/${encodeURIComponent(n)}`, token)).ticket;
    } catch (err) {
      say($('cancel-msg'), err.message, 'error');
      return;
    }
    $('cancel-question').textContent =
      `确认取消 ${t.number}（${t.service_name}，${t.state_label}）？原因：${cancelReason()}`;
    $('cancel-confirm').dataset.number = t.number;
    $('cancel-confirm').hidden = false;
    say($('cancel-msg'), '', 'ok');
    $('cancel-yes').focus();
  });

  $('cancel-no').addEventListener('click', () => {
    $('cancel-confirm').hidden = true;
  });

  $('cancel-yes').addEventListener('click', async () => {
    const n = $('cancel-confirm').dataset.number;
    const reason = cancelReason();
    $('cancel-confirm').hidden = true;
    try {
      await api('POST', `/api/tickets/${encodeURIComponent(n)}/cancel`, token, { reason });
      say($('cancel-msg'), `${n} 已取消（原因：${reason}）`, 'ok');
      $('cancel-number').value = '';
      $('cancel-other').value = '';
    } catch (err) {
      say($('cancel-msg'), err.message, 'error');
    }
    refreshSoon();
    await loadCancellations();
  });

  // ----- the windows' login PINs -------------------------------------------
  // GET /api/pins: which windows have a PIN, wrong PINs, lock-outs; set a
  // PIN (PUT), clear it (DELETE), lift a lock-out. The PIN is never shown.
  function pinRow(p) {
    const actions = [];
    if (p.set) actions.push(el('button', { type: 'button', class: 'pin-op', 'data-window': p.window, 'data-op': 'clear' }, '清除密码'));
    if (p.locked_until || p.failures) actions.push(el('button', { type: 'button', class: 'pin-op', 'data-window': p.window, 'data-op': 'unlock' }, '解除锁定'));
    return el(
      'tr',
      { dataset: { window: p.window } },
      el('td', {}, `${p.window} 号窗口`),
      el('td', {}, p.set ? `已设置（${p.set_at}）` : '未设置'),
      el('td', { class: 'num' }, p.failures),
      el('td', {}, p.locked_until ? el('span', { class: 'badge warn' }, `锁定至 ${p.locked_until}`) : '—'),
      el('td', {}, actions),
    );
  }

  async function loadPins() {
    try {
      const list = await api('GET', '/api/pins', token);
      const select = $('pin-window');
      if (!select.options.length) {
        for (const p of list) select.append(el('option', { value: p.window }, `${p.window} 号窗口`));
      }
      $('pins').replaceChildren(...list.map(pinRow));
    } catch (e) {
      say($('pins-msg'), e.message, 'error');
    }
  }

  $('pin-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const w = $('pin-window').value;
    const pin = $('pin-code').value.trim();
    $('pin-code').value = '';
    try {
      await api('PUT', `/api/windows/${w}/pin`, token, { pin });
      say($('pins-msg'), `${w} 号窗口的登录密码已设置`, 'ok');
    } catch (err) {
      say($('pins-msg'), err.message, 'error');
    }
    await loadPins();
  });

  $('pins').addEventListener('click', async (e) => {
    const b = e.target.closest('button.pin-op');
    if (!b) return;
    const w = b.dataset.window;
    b.disabled = true;
    try {
      if (b.dataset.op === 'clear') {
        await api('DELETE', `/api/windows/${w}/pin`, token);
        say($('pins-msg'), `${w} 号窗口的登录密码已清除（仍可用令牌登录）`, 'ok');
      } else {
        await api('POST', `/api/windows/${w}/pin/unlock`, token);
        say($('pins-msg'), `${w} 号窗口已解除锁定`, 'ok');
      }
    } catch (err) {
      say($('pins-msg'), err.message, 'error');
    }
    await loadPins();
  });

  // ----- a period's figures, the day's charts, the export ------------------
  // The rows are GET /api/stats (the figures of `greenwave stats`); the
  // charts GET /api/stats/charts for the period's last day, SVG drawn by
  // the server; the export the same figures as a workbook or a CSV for
  // Excel.
  function periodQuery() {
    return `from=${$('period-from').value}&to=${$('period-to').value}&by=${$('period-by').value}`;
  }

  function groupName(by, key) {
    if (key === '合计') return key;
    if (by === 'lane') return { priority: '绿波通道', appointment: '预约' }[key] || '普通';
    if (by === 'service') return serviceName(key);
    if (by === 'window' && key !== '-') return `${key} 号窗口`;
    if (by === 'helper') {
      const h = helperList.find((x) => x.id === key);
      return h ? h.name : key === '-' ? '无协办' : key;
    }
    return key;
  }

  async function loadPeriod() {
    const by = $('period-by').value;
    try {
      const rows = await api('GET', `/api/stats?${periodQuery()}`, token);
      $('period-rows').replaceChildren(...rows.map((r) => {
        const rate = r.resident.satisfaction_rate;
        return el('tr', r.key === '合计' ? { class: 'total' } : {},
          el('td', {}, groupName(by, r.key)), el('td', {}, r.issued), el('td', {}, r.priority),
          el('td', {}, r.served), el('td', {}, r.no_show), el('td', {}, (r.wait.mean_s / 60).toFixed(1)),
          el('td', {}, r.priority_served), el('td', {}, r.cases), el('td', {}, r.policies_explained),
          el('td', {}, rate === null ? '—' : pct(rate)));
      }));
      const day = $('period-to').value;
      const charts = await api('GET', `/api/stats/charts?day=${day}`, token);
      $('charts-title').textContent = `${day} 图表`;
      // SVG the server drew from its own figures (labels escaped there).
      $('chart-hourly').innerHTML = charts.hourly;
      $('chart-waits').innerHTML = charts.waits;
    } catch (e) {
      say($('msg'), e.message, 'error');
    }
  }

  async function download(format, name) {
    const resp = await fetch(`/api/stats?${periodQuery()}&format=${format}`, {
      headers: { Authorization: 'Bearer ' + token },
      cache: 'no-store',
    });
    if (!resp.ok) {
      say($('msg'), `导出失败（${resp.status}）`, 'error');
      return;
    }
    const url = URL.createObjectURL(await resp.blob());
    const a = el('a', { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  let periodStarted = false;

  function startPeriod() {
    periodStarted = true;
    const today = queue.day;
    const from = new Date(Date.parse(today) - 6 * 86400000).toISOString().slice(0, 10);
    $('period-from').value = from;
    $('period-to').value = today;
    $('period').addEventListener('submit', (ev) => {
      ev.preventDefault();
      loadPeriod();
    });
    $('period-by').addEventListener('change', loadPeriod);
    const label = () => `${me.hall}-${$('period-from').value}-${$('period-to').value}`;
    $('export-xlsx').addEventListener('click', () => download('xlsx', `${label()}.xlsx`));
    $('export-csv').addEventListener('click', () => download('excel_csv', `${label()}.csv`));
    loadPeriod();
  }

  function start(t, who) {
    token = t;
    me = who;
    $('hall').textContent = `${me.hall} · 大厅管理`;
    $('logout').hidden = false;
    $('logout').addEventListener('click', () => GW.logout(KEY));
    $('app').hidden = false;
    GW.liveQueue(token, {
      onSnapshot: () => refreshSoon(),
      onEvent: () => {
        refreshSoon();
        staffSoon();
      },
      onState: (up) => {
        $('offline').hidden = up;
      },
      onUnauthorized: () => GW.logout(KEY),
    });
    loadStaff();
    setInterval(loadStaff, 15000);
    loadKiosks();
    setInterval(loadKiosks, 5000);
    loadAlerts();
    setInterval(loadAlerts, 5000);
    loadReprints();
    setInterval(loadReprints, 15000);
    loadPins();
    setInterval(loadPins, 15000);
    loadCancellations();
    setInterval(loadCancellations, 15000);
    setInterval(() => {
      if (queue) {
        drawServices();
        drawWindows();
      }
    }, 5000);
  }

  GW.login({ key: KEY, role: 'manager', roleError: '请使用管理员令牌登录', onReady: start });
})();
