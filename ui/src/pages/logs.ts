// Logs: the cluster event and audit log (GET /v1/logs) with a time range and order on the server, and type,
// severity and text filters applied in the page to the fetched page of events (100 at a time).
import { get } from '../api.js';
import { button, field, h, load, section, select, table, formatTime } from '../dom.js';
import type { Page } from '../page.js';

interface LogEvent {
  time: string;
  type: string;
  severity: string;
  [field: string]: unknown;
}

const PAGE_SIZE = 100;

export const logsPage: Page = {
  path: '/logs',
  title: 'Logs',
  needs: ['view_logged_events'],
  render(main) {
    const from = h('input', { type: 'datetime-local', step: 1 });
    const to = h('input', { type: 'datetime-local', step: 1 });
    const order = select([['desc', 'Newest first'], ['asc', 'Oldest first']], 'desc');
    const severity = select([['', 'Any'], ['INFO', 'INFO'], ['WARNING', 'WARNING'], ['ERROR', 'ERROR']], '');
    const type = select([['', 'Any']], '');
    const text = h('input', { type: 'search', placeholder: 'user, certificate, fingerprint…' });
    const results = h('div');
    let offset = 0;
    const iso = (value: string): string => `${value.length === 16 ? `${value}:00` : value}Z`;
    const run = (): void => {
      const query = new URLSearchParams({ order: order.value, offset: String(offset), limit: String(PAGE_SIZE) });
      if (from.value) query.set('stime', iso(from.value));
      if (to.value) query.set('etime', iso(to.value));
      void load(results, 'events', () => get<LogEvent[]>(`/v1/logs?${query.toString()}`), (events) => {
        const needle = text.value.trim().toLowerCase();
        // The types of this page of events are the choices of the Type filter (the one chosen stays offered).
        const chosen = type.value;
        const types = [...new Set([...events.map((e) => e.type), ...(chosen ? [chosen] : [])])].sort();
        type.replaceChildren(h('option', { value: '' }, 'Any'), ...types.map((t) => h('option', { value: t }, t)));
        type.value = chosen;
        const shown = events.filter(
          (e) =>
            (severity.value === '' || e.severity === severity.value) &&
            (chosen === '' || e.type === chosen) &&
            (needle === '' || JSON.stringify(e).toLowerCase().includes(needle)),
        );
        const pager = h(
          'div',
          { class: 'actions pager' },
          button('Previous', () => {
            offset = Math.max(0, offset - PAGE_SIZE);
            run();
          }, { class: 'secondary small', disabled: offset === 0 }),
          h('span', { class: 'hint' }, `Events ${events.length === 0 ? 0 : offset + 1}-${offset + events.length}${shown.length !== events.length ? ` (${shown.length} match the filters)` : ''}`),
          button('Next', () => {
            offset += PAGE_SIZE;
            run();
          }, { class: 'secondary small', disabled: events.length < PAGE_SIZE }),
        );
        return [
          table('Events', [
            { header: 'Time', cell: (e) => formatTime(e.time), className: 'nowrap' },
            { header: 'Severity', cell: (e) => h('span', { class: `badge ${e.severity === 'ERROR' ? 'danger' : e.severity === 'WARNING' ? 'warning' : ''}` }, e.severity) },
            { header: 'Type', cell: (e) => h('code', {}, e.type) },
            { header: 'Details', cell: (e) => details(e), className: 'wrap' },
          ], shown, 'No event matches.'),
          pager,
        ];
      });
    };
    const form = h(
      'form',
      { class: 'filters', 'aria-label': 'Log filters', novalidate: true },
      field('From (UTC)', from),
      field('To (UTC)', to),
      field('Order', order),
      field('Severity', severity),
      field('Type', type),
      field('Text', text),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Apply filters')),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      offset = 0;
      run();
    });
    main.append(section('Event and audit log', form, results));
    run();
  },
};

function details(event: LogEvent): string {
  return Object.entries(event)
    .filter(([key]) => key !== 'time' && key !== 'type' && key !== 'severity')
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' · ');
}
