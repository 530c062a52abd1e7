// The console's only script (served from /admin/assets, so the pages need no inline script):
// SLA timers that keep counting, the escalation form's recommended level, canned answers in
// the reply box, live pages (server-sent events), and pages that reload themselves while they
// wait (the WhatsApp Web pairing code).
;(() => {
  const span = (ms) => {
    const m = Math.floor(Math.abs(ms) / 60000)
    const d = Math.floor(m / 1440)
    const h = Math.floor((m % 1440) / 60)
    const n = m % 60
    return d > 0 ? `${d} d ${h} h` : h > 0 ? `${h} h ${String(n).padStart(2, '0')} min` : `${n} min`
  }
  // Timers count on the hub's clock: the page says what time the hub had when it was made.
  const skew = Number(document.body.dataset.now || Date.now()) - Date.now()
  const tick = () => {
    for (const el of document.querySelectorAll('.timer[data-due]')) {
      const left = Number(el.dataset.due) - (Date.now() + skew)
      el.textContent = `${left <= 0 ? el.dataset.over : el.dataset.left} ${span(left)}`
    }
  }
  setInterval(tick, 30000)

  // A reason that calls for a higher level than the recommended one selects it.
  const form = document.getElementById('escalate-form')
  if (form) {
    const reason = document.getElementById('reason')
    const level = document.getElementById('level')
    const order = ['L1', 'L2', 'L3']
    const base = form.dataset.baseLevel
    reason.addEventListener('change', () => {
      const want = reason.options[reason.selectedIndex].dataset.level
      level.value = order.indexOf(want) > order.indexOf(base) ? want : base
    })
  }

  // A canned answer fills the reply box (the person edits it before sending).
  const canned = document.getElementById('canned')
  if (canned) {
    canned.addEventListener('change', () => {
      const option = canned.options[canned.selectedIndex]
      const box = document.getElementById('reply-text')
      if (option.dataset.text && box) {
        box.value = option.dataset.text
        box.focus()
      }
    })
  }

  // Live pages: when the server says the cases changed, the page fetches itself and swaps its
  // live parts (forms are outside them, so nothing typed is lost).
  const live = document.querySelectorAll('[data-live][id]')
  if (live.length > 0 && 'EventSource' in window) {
    let fetching = false
    let again = false
    const refresh = async () => {
      if (fetching) {
        again = true
        return
      }
      fetching = true
      try {
        const res = await fetch(location.href, { credentials: 'same-origin' })
        if (res.ok) {
          const next = new DOMParser().parseFromString(await res.text(), 'text/html')
          for (const el of document.querySelectorAll('[data-live][id]')) {
            const fresh = next.getElementById(el.id)
            if (fresh && fresh.innerHTML !== el.innerHTML) el.innerHTML = fresh.innerHTML
          }
          document.body.dataset.liveAt = String(Date.now())
          tick()
        }
      } catch {
        // Offline for a moment: the next change (or a reload) brings the page up to date.
      } finally {
        fetching = false
        if (again) {
          again = false
          void refresh()
        }
      }
    }
    const events = new EventSource('/admin/events')
    events.addEventListener('change', refresh)
    events.addEventListener('open', () => {
      document.body.dataset.live = 'on'
    })
  }

  const reload = document.querySelector('[data-reload-ms]')
  if (reload) setTimeout(() => location.reload(), Number(reload.dataset.reloadMs))
})()
