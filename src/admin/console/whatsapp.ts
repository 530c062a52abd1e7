import type { Router } from 'express'
import QRCode from 'qrcode'
import { html, raw } from './html.js'
import { t } from './i18n.js'
import type { PageKit } from './page-kit.js'

/** WhatsApp Web's session: its state and, while it waits for a scan, the login QR code. */
export function whatsappPage(router: Router, kit: PageKit): void {
  const { page, handle, sources } = kit
  router.get(
    '/whatsapp',
    handle(async (_req, res, lang) => {
      // The session that pairs by QR code (WhatsApp Web's), whichever channel it is.
      const session = sources.find((s) => s.snapshot && 'qr' in s.snapshot())
      const snapshot = session?.snapshot?.() as
        | { state?: string; qr?: string | null; lastError?: string | null }
        | undefined
      const qr = snapshot?.qr
        ? await QRCode.toString(snapshot.qr, { type: 'svg', margin: 2, width: 280 })
        : null
      page(
        res,
        lang,
        { title: t(lang, 'whatsapp'), here: '/admin/whatsapp' },
        html`<section>${
          session
            ? html`<p>${t(lang, 'sessionState')}: <strong>${snapshot?.state ?? session.health()}</strong>${snapshot?.lastError ? html` — ${snapshot.lastError}` : ''}</p>
${qr ? html`<p>${t(lang, 'scanQr')}</p><div id="qr">${raw(qr)}</div>` : ''}
${snapshot?.state === 'ready' ? '' : html`<span data-reload-ms="5000"></span>`}`
            : html`<p class="muted">${t(lang, 'notWeb')}</p>`
        }</section>`,
      )
    }),
  )
}
