/* Character Studio: client-event cards in the call card (plain ES2020, served as-is).
 *
 *   window.StudioToolEvents.add(listElement, event, maxShown) -> the card's <li>
 *
 * `event` is what the Runway SDK's onClientEvent gives: {tool, args}. Each event becomes a
 * readable card: the tool's name, the time it fired, and its arguments as name/value rows. A value
 * that is an http(s) address is shown as a link (opens in a new tab, rel="noopener noreferrer");
 * the page never navigates by itself. All text goes into the DOM through textContent.
 */
(function () {
  'use strict';

  const STYLE_ID = 'studio-tool-events-style';
  const CSS = `
.studio-call .sc-events { max-height: 220px; }
.studio-call .sc-tool-card { display: block; padding: 8px 10px; border: 1px solid var(--sc-line);
  border-radius: 10px; background: var(--sc-panel); color: var(--sc-text); font-size: 13px; }
.studio-call .sc-tool-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 2px 8px;
  margin-bottom: 4px; }
.studio-call .sc-tool-name { font-family: ui-monospace, SFMono-Regular, Menlo, monospace;
  font-weight: 600; color: var(--sc-accent); background: none; padding: 0; overflow-wrap: anywhere; }
.studio-call .sc-tool-time { margin-left: auto; font-size: 11px; color: var(--sc-muted);
  font-variant-numeric: tabular-nums; white-space: nowrap; }
.studio-call .sc-tool-args { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px;
  margin: 0; }
.studio-call .sc-tool-args dt { color: var(--sc-muted); }
.studio-call .sc-tool-args dd { margin: 0; overflow-wrap: anywhere; white-space: pre-wrap; }
.studio-call .sc-tool-args a { color: var(--sc-accent); text-decoration: underline; }
.studio-call .sc-tool-noargs { color: var(--sc-muted); font-style: italic; }
`;

  function ensureStyle() {
    if (document.getElementById(STYLE_ID)) return;
    const style = document.createElement('style');
    style.id = STYLE_ID;
    style.textContent = CSS;
    document.head.appendChild(style);
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // Only absolute http(s) addresses become links: never javascript:, data: or relative ones.
  function safeUrl(value) {
    if (typeof value !== 'string' || !/^https?:\/\//i.test(value.trim())) return null;
    try {
      const url = new URL(value.trim());
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function valueNode(value) {
    const dd = el('dd');
    const href = safeUrl(value);
    if (href) {
      const link = el('a', 'sc-tool-link', value);
      link.href = href;
      link.target = '_blank';
      link.rel = 'noopener noreferrer';
      dd.appendChild(link);
    } else if (typeof value === 'string') {
      dd.textContent = value;
    } else {
      let text;
      try {
        text = JSON.stringify(value);
      } catch (e) {
        text = String(value);
      }
      dd.textContent = text === undefined ? String(value) : text;
    }
    return dd;
  }

  function timeNow() {
    const d = new Date();
    const two = (n) => String(n).padStart(2, '0');
    return two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds());
  }

  function card(evt) {
    const tool = evt && typeof evt.tool === 'string' && evt.tool ? evt.tool : 'event';
    const args = evt && evt.args && typeof evt.args === 'object' ? evt.args : {};
    const li = el('li', 'sc-event sc-tool-card');
    li.dataset.tool = tool;
    const head = el('div', 'sc-tool-head');
    const time = el('time', 'sc-tool-time', timeNow());
    time.dateTime = new Date().toISOString();
    head.append(el('code', 'sc-tool-name', tool), time);
    li.appendChild(head);
    const names = Object.keys(args);
    if (names.length === 0) {
      li.appendChild(el('div', 'sc-tool-noargs', 'no arguments'));
    } else {
      const list = el('dl', 'sc-tool-args');
      for (const name of names) list.append(el('dt', '', name), valueNode(args[name]));
      li.appendChild(list);
    }
    li.setAttribute('aria-label', 'Client event ' + tool);
    return li;
  }

  function add(list, evt, maxShown) {
    ensureStyle();
    const li = card(evt);
    list.appendChild(li);
    const max = Number(maxShown) || 50;
    while (list.childElementCount > max) list.firstElementChild.remove();
    list.scrollTop = list.scrollHeight;
    return li;
  }

  window.StudioToolEvents = { add, card, safeUrl, version: '1' };
})();
