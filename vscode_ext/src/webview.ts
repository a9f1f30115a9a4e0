// HTML for the webviews. No `vscode` import. Server text never goes through innerHTML: the page script
// builds DOM nodes and sets textContent, and the CSP allows only this page's nonce-tagged script.

/** A random nonce for the CSP `script-src`. */
export function makeNonce(): string {
  const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  for (let i = 0; i < 32; i++) {
    out += chars.charAt(Math.floor(Math.random() * chars.length));
  }
  return out;
}

/** The Content-Security-Policy: no network, no remote or inline code except the nonce'd script. */
export function csp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `style-src ${cspSource} 'unsafe-inline'`,
    `img-src ${cspSource} data:`,
    `script-src 'nonce-${nonce}'`,
  ].join("; ");
}

const STYLE = `
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 12px; }
.msg { margin: 10px 0; white-space: pre-wrap; }
.q { font-weight: bold; }
.err { color: var(--vscode-errorForeground); }
.note { font-style: italic; opacity: 0.8; }
.cite { display: block; margin: 2px 0; cursor: pointer; color: var(--vscode-textLink-foreground); background: none; border: none; padding: 0; text-align: left; font: inherit; }
form { display: flex; gap: 6px; position: sticky; bottom: 0; padding: 8px 0; background: var(--vscode-editor-background); }
input { flex: 1; background: var(--vscode-input-background); color: var(--vscode-input-foreground); border: 1px solid var(--vscode-input-border, transparent); padding: 4px; }
button.act { background: var(--vscode-button-background); color: var(--vscode-button-foreground); border: none; padding: 4px 10px; cursor: pointer; }
table { border-collapse: collapse; margin: 8px 0; } td, th { border: 1px solid var(--vscode-panel-border); padding: 2px 8px; text-align: left; }
`;

/** Escape text for an HTML text node or attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON for a value embedded in an inline script (`</script>` inside cannot close the tag). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

function page(title: string, cspSource: string, nonce: string, body: string, script: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp(cspSource, nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>${body}<script nonce="${nonce}">${script}</script></body></html>`;
}

/** The copilot chat page: the extension posts `token`/`answer`/`error`/`state` messages to it. */
export function copilotHtml(cspSource: string, nonce: string): string {
  const body = `<h2>Shipyard Copilot</h2><div id="log" aria-live="polite"></div>
<form id="f"><input id="q" placeholder="Ask about data, features, models…" aria-label="Question"><button class="act" type="submit">Ask</button></form>`;
  const script = `
const vscode = acquireVsCodeApi();
const log = document.getElementById('log');
let current = null;
function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
document.getElementById('f').addEventListener('submit', (ev) => {
  ev.preventDefault(); const q = document.getElementById('q'); const text = q.value.trim(); if (!text) return;
  log.appendChild(el('div', 'msg q', text)); current = el('div', 'msg answer', ''); log.appendChild(current);
  q.value = ''; vscode.postMessage({ type: 'ask', question: text });
});
window.addEventListener('message', (ev) => {
  const m = ev.data;
  if (m.type === 'question') { log.appendChild(el('div', 'msg q', m.question)); current = el('div', 'msg answer', ''); log.appendChild(current); }
  else if (m.type === 'token' && current) { current.textContent += m.text; }
  else if (m.type === 'answer') {
    if (!current) { current = el('div', 'msg answer', ''); log.appendChild(current); }
    current.textContent = m.answer.answer;
    const cites = el('div', 'citations', '');
    (m.answer.citations || []).forEach((c, i) => {
      const label = '[' + (i + 1) + '] ' + c.kind + ' ' + c.name + (c.column ? '.' + c.column : '');
      const b = el('button', 'cite', label); b.title = c.snippet || '';
      b.addEventListener('click', () => vscode.postMessage({ type: 'open', citation: c }));
      cites.appendChild(b);
      const ins = el('button', 'cite', '  insert load code'); ins.addEventListener('click', () => vscode.postMessage({ type: 'insert', citation: c }));
      cites.appendChild(ins);
    });
    log.appendChild(cites); current = null;
  }
  else if (m.type === 'error') { log.appendChild(el('div', 'msg err', m.message)); current = null; }
});
vscode.postMessage({ type: 'ready' });`;
  return page("Shipyard Copilot", cspSource, nonce, body, script);
}

/** A page that renders titled tables from a posted `{type: 'data', sections: [{title, columns, rows, note?}]}` message. */
export function tablesHtml(title: string, cspSource: string, nonce: string): string {
  const body = `<h2 id="title"></h2><div id="root">Loading…</div>`;
  const script = `
const vscode = acquireVsCodeApi();
document.getElementById('title').textContent = ${scriptJson(title)};
function el(tag, text) { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; return e; }
window.addEventListener('message', (ev) => {
  const m = ev.data; const root = document.getElementById('root'); root.textContent = '';
  if (m.type === 'error') { const d = el('div', m.message); d.className = 'err'; root.appendChild(d); return; }
  for (const s of m.sections) {
    const h = el('h3', s.title); root.appendChild(h);
    if (s.note) { const p = el('p', s.note); p.className = 'note'; root.appendChild(p); }
    if (!s.rows.length) continue;
    const t = el('table'); t.dataset.section = s.title; const head = el('tr'); s.columns.forEach((c) => head.appendChild(el('th', c))); t.appendChild(head);
    s.rows.forEach((r) => { const tr = el('tr'); r.forEach((v) => tr.appendChild(el('td', String(v)))); t.appendChild(tr); });
    root.appendChild(t);
  }
});
vscode.postMessage({ type: 'ready' });`;
  return page(title, cspSource, nonce, body, script);
}
