// The window's evaluator (评价器): a tablet at the counter. It shows the
// ticket being served at the window (or just finished there), five large
// buttons with faces and words, thanks the resident and goes back to idle.
// It polls GET /api/rate/{window} every 2 seconds; nothing else.
(() => {
  'use strict';
  const { api, el, $, say } = GW;
  const KEY = 'greenwave.evaluator';
  const window_ = Number(location.pathname.split('/').pop());
  const THANKS_MS = 5000;

  // A face per level, drawn as SVG (no emoji font needed): the mouth's
  // curve goes from a wide smile to a deep frown.
  const FACES = {
    非常满意: { mouth: 'M14 27 Q24 40 34 27', color: '#0a7a3d' },
    满意: { mouth: 'M15 29 Q24 36 33 29', color: '#2e8b57' },
    基本满意: { mouth: 'M15 31 L33 31', color: '#8a6d00' },
    不满意: { mouth: 'M15 34 Q24 27 33 34', color: '#b45309' },
    非常不满意: { mouth: 'M14 36 Q24 23 34 36', color: '#b91c1c' },
  };
  const SVG = 'http://www.w3.org/2000/svg';

  function face(level) {
    const f = FACES[level];
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 48 48');
    svg.setAttribute('class', 'face');
    svg.setAttribute('aria-hidden', 'true');
    const add = (tag, attrs) => {
      const e = document.createElementNS(SVG, tag);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
      svg.appendChild(e);
    };
    add('circle', { cx: 24, cy: 24, r: 21, fill: '#fff', stroke: f.color, 'stroke-width': 3 });
    add('circle', { cx: 17, cy: 19, r: 2.8, fill: f.color });
    add('circle', { cx: 31, cy: 19, r: 2.8, fill: f.color });
    add('path', { d: f.mouth, fill: 'none', stroke: f.color, 'stroke-width': 3, 'stroke-linecap': 'round' });
    return svg;
  }

  let token = null;
  let shown = null; // the number on screen
  let thanksUntil = 0;

  function show(section) {
    for (const id of ['rate-idle', 'rate-ask', 'rate-thanks']) $(id).hidden = id !== section;
  }

  function draw(view) {
    if (Date.now() < thanksUntil) return;
    const t = view.ticket;
    if (!t || t.rated) {
      shown = null;
      show('rate-idle');
      return;
    }
    if (shown !== t.number) {
      shown = t.number;
      $('rate-ticket').textContent = `${t.number} · ${t.service_name}`;
      $('rate-levels').replaceChildren(
        ...view.levels.map((level) =>
          el('button', { type: 'button', class: 'level', 'data-level': level, 'aria-label': level }, face(level), el('span', {}, level)),
        ),
      );
      say($('rate-msg'), '');
    }
    show('rate-ask');
  }

  async function poll() {
    try {
      draw(await api('GET', `/api/rate/${window_}`, token));
      $('offline').hidden = true;
    } catch (e) {
      if (e.status === 401 || e.status === 403) {
        GW.logout(KEY);
        return;
      }
      $('offline').hidden = false;
    }
  }

  async function rate(level) {
    const number = shown;
    try {
      await api('POST', `/api/rate/${window_}`, token, { number, rating: level });
      $('rate-given').textContent = `${number} · ${level}`;
      thanksUntil = Date.now() + THANKS_MS;
      shown = null;
      show('rate-thanks');
      setTimeout(poll, THANKS_MS + 50);
    } catch (e) {
      say($('rate-msg'), e.message, 'error');
      setTimeout(poll, 1500);
    }
  }

  $('rate-levels').addEventListener('click', (e) => {
    const b = e.target.closest('button.level');
    if (b) rate(b.dataset.level);
  });

  function start(t, me) {
    if (me.role !== 'manager' && me.window !== window_) {
      GW.logout(KEY);
      return;
    }
    token = t;
    $('rate-window').textContent = `${window_} 号窗口 · 服务评价`;
    $('app').hidden = false;
    poll();
    setInterval(poll, 2000);
  }

  GW.login({
    key: KEY,
    role: ['evaluator', 'window', 'manager'],
    roleError: '请使用本窗口的评价器令牌或窗口令牌登录',
    onReady: start,
  });
})();
