// whatsapp-web.js depends on puppeteer, whose install would download a browser. centralita
// uses the system Chromium instead (WHATSAPP_CHROMIUM_PATH, default /usr/bin/chromium).
module.exports = { skipDownload: true }
