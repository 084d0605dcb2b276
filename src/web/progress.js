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
    drawRating(s);
    if (s.status === 'called' && was !== 'called' && canBuzz()) navigator.vibrate([300, 150, 300]);
    nearOnce();
  }

  // A finished ticket: the five levels of 好差评 and an optional comment,
  // once; then the rating given. Built here (it needs the script to send).
  const LEVELS = ['非常满意', '满意', '基本满意', '不满意', '非常不满意'];
  let rateBuilt = false;

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text) e.textContent = text;
    return e;
  }

  function buildRating() {
    const sec = $('rate');
    const form = el('form', { id: 'rate-form' });
    form.append(el('p', { class: 'rate-title' }, '请为本次服务评价'));
    const levels = el('div', { class: 'rate-levels', role: 'group', 'aria-label': '评价' });
    for (const level of LEVELS) {
      const b = el('button', { type: 'button', class: 'rate-level', 'data-level': level, 'aria-pressed': 'false' }, level);
      levels.append(b);
    }
    form.append(levels);
    form.append(el('label', { for: 'rate-comment', class: 'rate-label' }, '意见或建议（可不填）'));
    form.append(el('textarea', { id: 'rate-comment', rows: '3', maxlength: '500' }));
    form.append(el('button', { type: 'submit', class: 'primary', id: 'rate-send', disabled: '' }, '提交评价'));
    form.append(el('p', { class: 'rate-msg', id: 'rate-msg', role: 'alert' }));
    sec.append(form, el('p', { class: 'rate-done', id: 'rate-done' }));
    levels.addEventListener('click', (e) => {
      const b = e.target.closest('button.rate-level');
      if (!b) return;
      for (const x of levels.children) x.setAttribute('aria-pressed', String(x === b));
      $('rate-send').disabled = false;
    });
    form.addEventListener('submit', sendRating);
    rateBuilt = true;
  }

  function drawRating(s) {
    const sec = $('rate');
    if (s.state !== 'done') {
      sec.hidden = true;
      return;
    }
    if (!rateBuilt) buildRating();
    sec.hidden = false;
    $('rate-form').hidden = !!s.rating;
    setText('rate-done', s.rating ? `您的评价：${s.rating}。谢谢！` : '');
  }

  async function sendRating(e) {
    e.preventDefault();
    const chosen = document.querySelector('#rate button[aria-pressed="true"]');
    if (!chosen) return;
    $('rate-send').disabled = true;
    setText('rate-msg', '');
    try {
      const r = await fetch('/api/status/' + encodeURIComponent(token) + '/rating', {
        method: 'POST',
        cache: 'no-store',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ rating: chosen.dataset.level, comment: $('rate-comment').value.trim() || null }),
      });
      const data = await r.json().catch(() => null);
      if (r.ok || (data && data.code === 'already_rated')) {
        await load();
        return;
      }
      setText('rate-msg', (data && data.error) || '提交失败，请稍后再试');
    } catch (err) {
      setText('rate-msg', '网络不通，请稍后再试');
    }
    $('rate-send').disabled = false;
  }

  function gone() {
    Object.assign(body.dataset, { status: 'missing', near: 'false', helper: 'none' });
    setText('message', '没有找到这张票');
    setText('guide', '可能已过当日，请咨询工作人员');
    for (const id of ['wait', 'advice', 'updated']) setText(id, '');
  }

  // Reads the status once and draws it: the delay before the next read,
  // or null when the ticket is gone.
  async function load() {
    try {
      const r = await fetch('/api/status/' + encodeURIComponent(token), { cache: 'no-store' });
      if (r.status === 404) {
        gone();
        return null;
      }
      if (!r.ok) throw new Error(String(r.status));
      const s = await r.json();
      draw(s);
      $('updated').className = 'updated';
      setText('updated', `更新于 ${s.as_of}，页面会自动刷新`);
      return ['done', 'cancelled', 'expired'].includes(s.state) ? 30000 : 5000;
    } catch (e) {
      $('updated').className = 'updated offline';
      setText('updated', '网络不通，稍后自动重试');
      return 5000;
    }
  }

  async function poll() {
    const delay = await load();
    if (delay !== null) setTimeout(poll, delay);
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
  // A finished ticket's page offers the rating at once.
  setTimeout(poll, body.dataset.state === 'done' ? 0 : 5000);
})();
