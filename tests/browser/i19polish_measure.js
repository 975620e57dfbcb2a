// Everything a page can be cut off by, measured in the page: a list of human-readable findings.
// Used by tests/browser/test_i19polish_layout.py (page.evaluate).
() => {
  const out = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth + 1) out.push(`page is ${doc.scrollWidth}px wide`);
  const canvas = document.createElement('canvas').getContext('2d');
  const visible = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const label = el => el.tagName === 'SELECT'
    ? ((el.options[el.selectedIndex] || {}).text || '')
    : (el.innerText || el.value || '');
  const name = el => `${el.tagName.toLowerCase()}${el.name ? '[name=' + el.name + ']' : ''}` +
    ` "${label(el).trim().slice(0, 48)}"`;
  for (const el of document.querySelectorAll('select')) {
    if (!visible(el) || el.multiple) continue;
    const opt = el.options[el.selectedIndex];
    if (!opt) continue;
    const cs = getComputedStyle(el);
    canvas.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
    const text = canvas.measureText(opt.text).width;
    const room = el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    if (text > room + 1) out.push(`${name(el)} cut off (${Math.round(text)} > ${Math.round(room)}px)`);
  }
  for (const el of document.querySelectorAll('button, .btn, input[type=submit], input[type=button], .badge, .seg__opt, label.check')) {
    if (!visible(el)) continue;
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible')
      out.push(`${name(el)} cut off (${el.scrollWidth} > ${el.clientWidth}px)`);
  }
  for (const el of document.querySelectorAll('main *')) {
    if (!visible(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.right > window.innerWidth + 1 && getComputedStyle(el).position !== 'fixed') {
      let p = el.parentElement, clipped = false;
      while (p && p !== document.body) {
        const ox = getComputedStyle(p).overflowX;
        if (ox === 'auto' || ox === 'scroll' || ox === 'hidden') { clipped = true; break; }
        p = p.parentElement;
      }
      if (!clipped) { out.push(`${name(el)} sticks out of the window (right edge ${Math.round(r.right)}px)`); break; }
    }
  }
  return out;
}
