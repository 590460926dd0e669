/* The copy buttons' words in Traditional Chinese.
 *
 * sphinx-copybutton picks its words by <html lang> from a table that has Simplified Chinese (zh-CN)
 * but no Traditional: the zh-TW edition's copy buttons said "Copy", "Copy to clipboard" and "Copied!".
 * Its table, its choice and its two icons (whose titles it filled in from the table) are globals of
 * its script, which runs before this one; it draws the buttons once the page is parsed, so changing
 * them here is in time.
 */
if (typeof messages === "object" && !messages["zh-TW"]) {
  messages["zh-TW"] = {
    copy: "複製",
    copy_to_clipboard: "複製到剪貼簿",
    copy_success: "已複製！",
    copy_failure: "複製失敗",
  };
  if (document.documentElement.lang === "zh-TW") {
    const titled = (icon, words) => icon.replace(/<title>[^<]*<\/title>/, `<title>${words}</title>`);
    locale = "zh-TW";
    iconCopy = titled(iconCopy, messages[locale].copy_to_clipboard);
    iconCheck = titled(iconCheck, messages[locale].copy_success);
  }
}
