// The console's only script (served from /admin/assets, so the pages need no inline script):
// SLA timers that keep counting, the escalation form's recommended level, and pages that
// reload themselves while they wait (the WhatsApp Web pairing code).
;(() => {
  const span = (ms) => {
    const m = Math.floor(Math.abs(ms) / 60000)
    const d = Math.floor(m / 1440)
    const h = Math.floor((m % 1440) / 60)
    const n = m % 60
    return d > 0 ? `${d} d ${h} h` : h > 0 ? `${h} h ${String(n).padStart(2, '0')} min` : `${n} min`
  }
  const tick = () => {
    for (const el of document.querySelectorAll('.timer[data-due]')) {
      const left = Number(el.dataset.due) - Date.now()
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

  const reload = document.querySelector('[data-reload-ms]')
  if (reload) setTimeout(() => location.reload(), Number(reload.dataset.reloadMs))
})()
