// dom.js — small DOM helpers and the page's notices (errors the user must see).

/**
 * Creates an element: el('a', {href: '#/', class: 'x'}, 'text', childNode).
 * Attributes that are null/undefined/false are left out; `true` sets an empty attribute.
 * Properties that are not attributes (value, checked) are set through `props`.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'props') Object.assign(node, value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** Replaces all children of `node` with `children`. */
export function fill(node, ...children) {
  node.replaceChildren();
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

/** Fills a <dl> from [term, description] pairs; pairs whose description is null are skipped. */
export function fillFacts(dl, pairs) {
  fill(dl, pairs.filter(([, d]) => d !== null && d !== undefined && d !== '')
    .map(([t, d]) => [el('dt', {}, t), el('dd', {}, d)]));
}

/*
 * Notices: every failed fetch ends up here (never swallowed). A notice has a key so that
 * a poll failing every second updates one notice instead of stacking sixty; it can be
 * dismissed, and clearNotice(key) removes it once the thing works again.
 */
const notices = () => document.getElementById('notices');

/** Shows `message` (a string or an Error) under `key`; the same key replaces its notice. */
export function showNotice(message, key = String(message)) {
  const text = message instanceof Error ? message.message : String(message);
  const root = notices();
  let box = [...root.children].find((n) => n.dataset.key === key);
  if (!box) {
    box = el('div', { class: 'notice error', role: 'alert', 'data-key': key });
    root.append(box);
  }
  const close = el('button', { type: 'button', class: 'notice-close', 'aria-label': 'Dismiss' }, '×');
  close.addEventListener('click', () => box.remove());
  fill(box, el('span', {}, text), close);
  return box;
}

/** Removes the notice shown under `key`, if any. */
export function clearNotice(key) {
  const box = [...notices().children].find((n) => n.dataset.key === key);
  if (box) box.remove();
}

/** Removes every notice (a fresh navigation starts clean). */
export function clearNotices() {
  notices().replaceChildren();
}
