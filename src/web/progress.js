// The resident's progress page (/t/{token}): the server fills it in; this
// keeps it up to date from GET /api/status/{token} every 5 s (every 30 s
// once the ticket is closed). No token of staff, no personal data.
'use strict';

(() => {
  const body = document.body;
  if (body.dataset.status === 'missing') return;
  const token = decodeURIComponent(location.pathname.split('/').pop());
  const $ = (id) => document.getElementById(id);

  function stamp() {
    const d = new Date();
    return [d.getHours(), d.getMinutes(), d.getSeconds()].map((x) => String(x).padStart(2, '0')).join(':');
  }

  async function poll() {
    let delay = 5000;
    try {
      const r = await fetch('/api/status/' + encodeURIComponent(token), { cache: 'no-store' });
      if (r.status === 404) {
        body.dataset.status = 'missing';
        $('message').textContent = '没有找到这张票（可能已过当日）';
        $('updated').textContent = '';
        return;
      }
      if (!r.ok) throw new Error(String(r.status));
      const s = await r.json();
      const was = body.dataset.status;
      body.dataset.status = s.status;
      $('number').textContent = s.number;
      $('service').textContent = s.service_name;
      $('message').textContent = s.message;
      $('wait').textContent = s.wait || '';
      $('updated').className = 'updated';
      $('updated').textContent = `更新于 ${stamp()}，页面会自动刷新`;
      if (s.status === 'called' && was !== 'called' && navigator.vibrate) navigator.vibrate([300, 150, 300]);
      if (s.status === 'done' || s.status === 'closed') delay = 30000;
    } catch (e) {
      $('updated').className = 'updated offline';
      $('updated').textContent = '网络不通，稍后自动重试';
    }
    setTimeout(poll, delay);
  }

  setTimeout(poll, 5000);
})();
