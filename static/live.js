// Live updates: the server announces changes as server-sent events; a page lists in its
// body's data-live attribute the kinds it shows, and reloads itself when one arrives.
const kinds = (document.body.dataset.live || '').split(' ').filter(Boolean);
if (kinds.length > 0) {
  const source = new EventSource('/events');
  for (const kind of kinds.concat(['refresh'])) {
    source.addEventListener(kind, () => location.reload());
  }
  source.addEventListener('open', () => document.body.classList.add('live'));
}
