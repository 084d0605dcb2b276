// greenwave pages: what every page shares. Plain JavaScript, no build step.
// The API is the staff API; tokens live in localStorage, one per page kind.
'use strict';

const GW = (() => {
  // Server clock minus local clock (from the HTTP Date header), so that
  // waits and elapsed times follow the hall's clock, not the PC's.
  let offset = 0;

  function now() {
    return Date.now() + offset;
  }

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, token, body) {
    const opts = { method, headers: {}, cache: 'no-store' };
    if (token) opts.headers.Authorization = 'Bearer ' + token;
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    let resp;
    try {
      resp = await fetch(path, opts);
    } catch (e) {
      throw new ApiError(0, 'network', '无法连接服务器，请检查网络');
    }
    const date = Date.parse(resp.headers.get('Date') || '');
    if (!Number.isNaN(date) && Math.abs(date - Date.now() - offset) > 1500) {
      offset = date - Date.now();
    }
    const text = await resp.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (e) {
      data = null;
    }
    if (!resp.ok) {
      throw new ApiError(
        resp.status,
        (data && data.code) || 'http_' + resp.status,
        (data && data.error) || '服务器返回 ' + resp.status,
      );
    }
    return data;
  }

  // "12:05" (m:ss), or "1:02:03" past an hour.
  function clock(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const ss = String(s % 60).padStart(2, '0');
    return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
  }

  // "3 分钟", "不到 1 分钟", "1 小时 5 分".
  function minutes(ms) {
    const m = Math.floor(Math.max(0, ms) / 60000);
    if (m < 1) return '不到 1 分钟';
    if (m < 60) return `${m} 分钟`;
    return `${Math.floor(m / 60)} 小时 ${m % 60} 分`;
  }

  function timeOfDay(ms) {
    const d = new Date(ms);
    return [d.getHours(), d.getMinutes(), d.getSeconds()]
      .map((x) => String(x).padStart(2, '0'))
      .join(':');
  }

  // el('td', {class: 'num', dataset: {x: 1}}, 'text', child, ...): text is
  // always set as text, never parsed as HTML.
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function $(id) {
    return document.getElementById(id);
  }

  function say(target, text, kind) {
    target.textContent = text || '';
    target.className = 'msg' + (kind ? ' ' + kind : '');
  }

  function laneBadge(lane) {
    if (lane === 'priority') return el('span', { class: 'badge green', title: '绿波通道' }, '绿波');
    if (lane === 'appointment') return el('span', { class: 'badge blue', title: '预约号，按预约时段排队' }, '预约');
    return null;
  }

  // The queue's event stream, kept open: EventSource reconnects by itself
  // after a network error; when it gives up (an HTTP error, e.g. the
  // daemon restarting) we open a new one after 3 s. onState(true) once a
  // snapshot arrived, onState(false) on every error; onUnauthorized when the
  // token no longer works.
  const KINDS = ['issued', 'called', 'recalled', 'started', 'finished', 'no_show', 'rejoined',
    'transferred', 'cancelled', 'paused', 'resumed', 'day_rolled_over'];

  function liveQueue(token, { onSnapshot, onEvent, onState, onUnauthorized }) {
    let es = null;
    let retry = null;
    function open() {
      // EventSource cannot send an Authorization header: the stream takes
      // ?token= (the daemon never logs request URLs).
      es = new EventSource('/api/events?token=' + encodeURIComponent(token));
      es.addEventListener('snapshot', (e) => {
        onState(true);
        onSnapshot(JSON.parse(e.data));
      });
      for (const k of KINDS) {
        es.addEventListener(k, (e) => onEvent(k, JSON.parse(e.data)));
      }
      es.onerror = () => {
        onState(false);
        if (es.readyState === EventSource.CLOSED) {
          es.close();
          clearTimeout(retry);
          retry = setTimeout(reopen, 3000);
        }
      };
    }
    // The stream was refused: a token that stopped working (the
    // configuration changed) goes back to the login form; anything else
    // (the daemon restarting) is tried again.
    async function reopen() {
      try {
        await api('GET', '/api/me', token);
      } catch (e) {
        if (e.status === 401 && onUnauthorized) {
          onUnauthorized();
          return;
        }
      }
      open();
    }
    open();
    return {
      close() {
        clearTimeout(retry);
        if (es) es.close();
      },
    };
  }

  // Runs fn at most once per `ms`, after the last call (for bursts of events).
  function debounce(fn, ms) {
    let t = null;
    return () => {
      clearTimeout(t);
      t = setTimeout(fn, ms);
    };
  }

  // The login form of a page: checks the token with GET /api/me and the
  // role it must have; keeps it in localStorage under `key`. With `pin`
  // (the console), the window-and-PIN form comes first: the PIN is
  // exchanged for the window's session token (POST /api/login/pin), and
  // the token form stays one click away (使用令牌登录).
  function login({ key, role, roleError, onReady, pin }) {
    const form = $('login');
    const input = $('login-token');
    const msg = $('login-msg');
    const pinForm = pin ? $('login-pin') : null;
    let useToken = !pinForm;
    function showForm() {
      form.hidden = !useToken;
      if (pinForm) pinForm.hidden = useToken;
      (useToken ? input : $('login-pin-code')).focus();
    }
    async function tryToken(token, remembered, target) {
      try {
        const me = await api('GET', '/api/me', token);
        if (!(Array.isArray(role) ? role : [role]).includes(me.role)) {
          say(target || msg, roleError, 'error');
          localStorage.removeItem(key);
          return;
        }
        localStorage.setItem(key, token);
        form.hidden = true;
        if (pinForm) pinForm.hidden = true;
        onReady(token, me);
      } catch (e) {
        if (e.status === 401) {
          localStorage.removeItem(key);
          say(target || msg, remembered ? (pinForm ? '登录已失效，请重新登录' : '保存的令牌已失效，请重新登录') : '令牌无效，请检查后重试', 'error');
        } else {
          say(target || msg, e.message, 'error');
        }
        showForm();
      }
    }
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const t = input.value.trim();
      input.value = '';
      if (t) tryToken(t, false);
    });
    if (pinForm) pinLogin(pinForm, (t) => tryToken(t, false, $('login-pin-msg')), (tok) => {
      useToken = tok;
      say(msg, '');
      say($('login-pin-msg'), '');
      showForm();
    });
    const saved = localStorage.getItem(key);
    if (saved) {
      form.hidden = true;
      tryToken(saved, true, pinForm ? $('login-pin-msg') : msg);
    } else {
      showForm();
    }
  }

  // The window-and-PIN form: the window numbers from GET /api/login/windows
  // (the last one chosen on this PC first), the PIN exchanged for a
  // session token.
  function pinLogin(pinForm, useSession, switchTo) {
    const select = $('login-window');
    const code = $('login-pin-code');
    const pmsg = $('login-pin-msg');
    const LAST = 'greenwave.console.window';
    $('login-use-token').addEventListener('click', () => switchTo(true));
    $('login-use-pin').hidden = false;
    $('login-use-pin').addEventListener('click', () => switchTo(false));
    api('GET', '/api/login/windows').then((r) => {
      for (const n of r.windows) select.append(el('option', { value: n }, `${n} 号窗口`));
      const last = localStorage.getItem(LAST);
      if (last && r.windows.includes(Number(last))) select.value = last;
    }).catch((e) => say(pmsg, e.message, 'error'));
    pinForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      const pin = code.value.trim();
      code.value = '';
      if (!pin) return;
      const window = Number(select.value);
      try {
        const s = await api('POST', '/api/login/pin', null, { window, pin });
        localStorage.setItem(LAST, String(window));
        useSession(s.token);
      } catch (err) {
        say(pmsg, err.message, 'error');
        code.focus();
      }
    });
  }

  // Forgets the page's token; a PIN session is ended on the server too.
  async function logout(key) {
    const token = localStorage.getItem(key);
    localStorage.removeItem(key);
    if (token) {
      try {
        await api('POST', '/api/logout', token);
      } catch (e) {
        // Already invalid, or the server is away: forgotten here anyway.
      }
    }
    location.reload();
  }

  return { api, ApiError, now, clock, minutes, timeOfDay, el, $, say, laneBadge, liveQueue, debounce, login, logout };
})();
