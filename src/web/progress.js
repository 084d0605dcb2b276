// The resident's progress page (/t/{token}): the server fills it in; this
// keeps it up to date from GET /api/status/{token} every 5 s (every 30 s
// once the ticket is finished), vibrates once when the ticket gets near
// and again when it is called, and sends an accompanied resident's
// 请协办员过来 without reloading. What shows (the lane badge, 快到您了, the
// helper's button) follows the body's data-* through the style sheet.
// No token of staff, no personal data; text is always set as text.
'use strict';

(() => {
  const body = document.body;
  if (body.dataset.status === 'missing') return;
  const token = decodeURIComponent(location.pathname.split('/').pop());
  const $ = (id) => document.getElementById(id);
  // The ticket whose "near" vibration was given, so that a reload or a
  // second visit does not vibrate again.
  const NEAR_KEY = 'greenwave.progress.near';
  let nearGiven = false;

  // Sets text only when it changed (a live region is not read out again).
  function setText(id, text) {
    const e = $(id);
    if (e.textContent !== text) e.textContent = text;
  }

  // A number stays on the line of the word it counts (1 号窗口, 02:32 前):
  // a no-break space, as the server's first paint has it.
  function keepNumbers(text) {
    return text.replace(/(\d) (?=[^\x00-\x7f])/g, '$1\u00a0');
  }

  // A phone vibrates only for a page the resident has touched (the
  // browser refuses, and complains, otherwise): false when it cannot.
  function canBuzz() {
    if (!navigator.vibrate) return false;
    return !navigator.userActivation || navigator.userActivation.hasBeenActive;
  }

  function nearOnce() {
    if (body.dataset.near !== 'true' || nearGiven || !canBuzz()) return;
    nearGiven = true;
    try {
      if (localStorage.getItem(NEAR_KEY) === token) return;
      localStorage.setItem(NEAR_KEY, token);
    } catch (e) {
      // No storage (private mode): once for this page's life.
    }
    navigator.vibrate([400, 200, 400]);
  }

  function draw(s) {
    const was = body.dataset.status;
    Object.assign(body.dataset, {
      status: s.status,
      state: s.state,
      lane: s.lane,
      near: String(!!s.near),
      helper: !s.helper ? 'none' : s.helper.called ? 'called' : 'ready',
    });
    document.title = `${s.number} · 排队进度`;
    setText('number', s.number);
    setText('service', s.service_name);
    setText('issued', s.issued_at ? `${s.issued_at} 取号` : '');
    setText('message', s.message);
    setText('wait', keepNumbers(s.wait || ''));
    setText('guide', keepNumbers(s.guide || ''));
    setText('advice', keepNumbers(s.advice || ''));
    setText('helper-text', s.helper ? s.helper.message : '');
    if (s.status === 'called' && was !== 'called' && canBuzz()) navigator.vibrate([300, 150, 300]);
    nearOnce();
  }

  function gone() {
    Object.assign(body.dataset, { status: 'missing', near: 'false', helper: 'none' });
    setText('message', '没有找到这张票');
    setText('guide', '可能已过当日，请咨询工作人员');
    for (const id of ['wait', 'advice', 'updated']) setText(id, '');
  }

  async function poll() {
    let delay = 5000;
    try {
      const r = await fetch('/api/status/' + encodeURIComponent(token), { cache: 'no-store' });
      if (r.status === 404) {
        gone();
        return;
      }
      if (!r.ok) throw new Error(String(r.status));
      const s = await r.json();
      draw(s);
      $('updated').className = 'updated';
      setText('updated', `更新于 ${s.as_of}，页面会自动刷新`);
      if (['done', 'cancelled', 'expired'].includes(s.state)) delay = 30000;
    } catch (e) {
      $('updated').className = 'updated offline';
      setText('updated', '网络不通，稍后自动重试');
    }
    setTimeout(poll, delay);
  }

  async function callHelper(e) {
    e.preventDefault();
    const button = $('helper-call');
    button.disabled = true;
    setText('helper-msg', '');
    try {
      const r = await fetch('/api/status/' + encodeURIComponent(token) + '/helper', { method: 'POST', cache: 'no-store' });
      const data = await r.json().catch(() => null);
      if (r.ok && data) draw(data);
      else setText('helper-msg', (data && data.error) || '暂时无法呼叫，请向工作人员求助');
    } catch (err) {
      setText('helper-msg', '网络不通，请稍后再试');
    }
    button.disabled = false;
  }

  $('helper-form').addEventListener('submit', callHelper);
  nearOnce();
  setTimeout(poll, 5000);
})();
