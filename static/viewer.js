// The imaging viewer on the study page, on top of the page's own list of frames (which stays
// for printing and without script): one frame at a time, the series as thumbnails, scrolling
// by wheel, keys or slider, cine, zoom, pan, invert, window presets and free window/level
// (Shift + drag; the server renders each window), and distances in mm from Pixel Spacing.
// No third-party code.

const viewer = document.getElementById('viewer');
if (viewer) start(viewer);

function start(viewer) {
  const $ = (name) => viewer.querySelector(`[data-out="${name}"]`);
  const act = (name) => viewer.querySelector(`[data-act="${name}"]`);
  const stage = $('stage');
  const image = $('image');
  const overlay = $('overlay');
  const series = [...document.querySelectorAll('section.series')].map((section) => ({
    label: section.dataset.label,
    frames: [...section.querySelectorAll('ol.instances li')].flatMap((li) => {
      const count = Math.max(1, Number(li.dataset.frames) || 1);
      return Array.from({ length: count }, (_, n) => ({ instance: li.dataset.instance, frame: n + 1 }));
    }),
  })).filter((s) => s.frames.length > 0);
  if (series.length === 0) return;

  const state = {
    series: 0, index: 0, zoom: 1, x: 0, y: 0, inverted: false,
    window: viewer.dataset.window || null, measuring: false, points: [], geometry: new Map(),
    cine: null,
  };
  viewer.hidden = false;
  document.body.classList.add('viewer-on');

  const frames = () => series[state.series].frames;
  const current = () => frames()[state.index];
  const address = (frame, extra) => {
    const query = new URLSearchParams(extra || {});
    if (state.window) query.set('window', state.window);
    const text = query.toString();
    return `/imaging/instances/${frame.instance}/frames/${frame.frame}${text ? '?' + text : ''}`;
  };

  // The series as thumbnails (each its middle frame).
  const strip = $('thumbnails');
  series.forEach((s, n) => {
    const button = document.createElement('button');
    button.type = 'button';
    const middle = s.frames[Math.floor(s.frames.length / 2)];
    const thumb = document.createElement('img');
    thumb.src = `/imaging/instances/${middle.instance}/frames/${middle.frame}?fit=96`;
    thumb.alt = s.label;
    const label = document.createElement('span');
    label.textContent = `${s.label}（${s.frames.length}）`;
    button.append(thumb, label);
    button.addEventListener('click', () => { state.series = n; state.index = 0; show(); });
    strip.append(button);
  });

  function transform() {
    // The frame fills the stage (aspect kept), then the reader's zoom and pan apply.
    if (image.naturalWidth) {
      const fit = Math.min(stage.clientWidth / image.naturalWidth, stage.clientHeight / image.naturalHeight);
      image.style.width = `${Math.floor(image.naturalWidth * fit)}px`;
    }
    image.style.transform =
      `translate(calc(-50% + ${state.x}px), calc(-50% + ${state.y}px)) scale(${state.zoom})`;
    drawMeasurement();
  }

  function show() {
    const all = frames();
    state.index = Math.max(0, Math.min(all.length - 1, state.index));
    image.src = address(current());
    // The next frames are fetched ahead, so scrolling does not wait.
    for (const ahead of all.slice(state.index + 1, state.index + 4)) new Image().src = address(ahead);
    const slider = act('slider');
    slider.max = String(all.length);
    slider.value = String(state.index + 1);
    $('position').textContent = `${state.index + 1} / ${all.length}`;
    $('window').textContent = state.window ? `窗位,窗宽 ${state.window}` : '窗宽窗位：图像自带';
    strip.querySelectorAll('button').forEach((b, n) => b.setAttribute('aria-current', String(n === state.series)));
    for (const link of document.querySelectorAll('#windows a')) {
      link.setAttribute('aria-current', String((link.dataset.window || null) === state.window));
    }
    state.points = [];
    state.distance = '';
    drawMeasurement();
  }

  function step(by) { state.index += by; show(); }

  act('prev').addEventListener('click', () => step(-1));
  act('next').addEventListener('click', () => step(1));
  act('slider').addEventListener('input', (e) => { state.index = Number(e.target.value) - 1; show(); });
  stage.addEventListener('wheel', (e) => { e.preventDefault(); step(e.deltaY > 0 ? 1 : -1); }, { passive: false });
  document.addEventListener('keydown', (e) => {
    if (e.target.closest('input, textarea, select')) return;
    if (e.key === 'ArrowDown' || e.key === 'PageDown') { e.preventDefault(); step(1); }
    if (e.key === 'ArrowUp' || e.key === 'PageUp') { e.preventDefault(); step(-1); }
  });

  act('cine').addEventListener('click', () => {
    if (state.cine) {
      clearInterval(state.cine);
      state.cine = null;
      act('cine').textContent = '播放';
      return;
    }
    act('cine').textContent = '暂停';
    state.cine = setInterval(() => {
      state.index = (state.index + 1) % frames().length;
      show();
    }, 100);
  });

  act('zoom-in').addEventListener('click', () => { state.zoom = Math.min(8, state.zoom * 1.25); transform(); });
  act('zoom-out').addEventListener('click', () => { state.zoom = Math.max(0.25, state.zoom / 1.25); transform(); });
  act('reset').addEventListener('click', () => {
    Object.assign(state, { zoom: 1, x: 0, y: 0, window: viewer.dataset.window || null });
    transform();
    show();
  });
  act('invert').addEventListener('click', () => {
    state.inverted = !state.inverted;
    image.classList.toggle('inverted', state.inverted);
    act('invert').setAttribute('aria-pressed', String(state.inverted));
  });
  act('measure').addEventListener('click', () => {
    state.measuring = !state.measuring;
    state.points = [];
    stage.classList.toggle('measuring', state.measuring);
    act('measure').setAttribute('aria-pressed', String(state.measuring));
    drawMeasurement();
  });

  // Presets re-render in place instead of reloading the page.
  for (const link of document.querySelectorAll('#windows a')) {
    link.addEventListener('click', (e) => {
      e.preventDefault();
      state.window = link.dataset.window || null;
      show();
    });
  }

  async function geometry(frame) {
    if (!state.geometry.has(frame.instance)) {
      const response = await fetch(`/imaging/instances/${frame.instance}/geometry`);
      state.geometry.set(frame.instance, response.ok ? await response.json() : {});
    }
    return state.geometry.get(frame.instance);
  }

  // Drag pans; Shift + drag changes the window (width left–right, centre up–down).
  let drag = null;
  let pending = null;
  stage.addEventListener('pointerdown', async (e) => {
    if (state.measuring) return;
    stage.setPointerCapture(e.pointerId);
    drag = { x: e.clientX, y: e.clientY, panX: state.x, panY: state.y, windowing: e.shiftKey, base: null };
    if (drag.windowing) {
      const [center, width] = (state.window || '').split(',').map(Number);
      const own = (await geometry(current())).window;
      drag.base = Number.isFinite(width) && width > 0 ? [center, width] : own || [128, 256];
    }
  });
  stage.addEventListener('pointermove', (e) => {
    if (!drag) return;
    const dx = e.clientX - drag.x;
    const dy = e.clientY - drag.y;
    if (!drag.windowing) {
      state.x = drag.panX + dx;
      state.y = drag.panY + dy;
      transform();
    } else if (drag.base) {
      const [center, width] = drag.base;
      const scale = Math.max(1, width / 200);
      state.window = `${Math.round(center - dy * scale)},${Math.max(1, Math.round(width + dx * scale))}`;
      $('window').textContent = `窗位,窗宽 ${state.window}`;
      clearTimeout(pending);
      pending = setTimeout(() => { image.src = address(current()); }, 120);
    }
  });
  const endDrag = () => { drag = null; };
  stage.addEventListener('pointerup', endDrag);
  stage.addEventListener('pointercancel', endDrag);

  // Measuring: two clicks on the image, the distance in mm (pixels where no spacing is known).
  stage.addEventListener('click', async (e) => {
    if (!state.measuring || !image.naturalWidth) return;
    const box = image.getBoundingClientRect();
    const column = ((e.clientX - box.left) / box.width) * image.naturalWidth;
    const row = ((e.clientY - box.top) / box.height) * image.naturalHeight;
    if (column < 0 || row < 0 || column > image.naturalWidth || row > image.naturalHeight) return;
    if (state.points.length === 2) state.points = [];
    state.points.push([column, row]);
    if (state.points.length === 2) {
      const [[c1, r1], [c2, r2]] = state.points;
      const spacing = (await geometry(current())).pixel_spacing;
      const text = spacing
        ? `${Math.hypot((c2 - c1) * spacing[1], (r2 - r1) * spacing[0]).toFixed(1)} mm`
        : `${Math.hypot(c2 - c1, r2 - r1).toFixed(1)} 像素（图像未标定像素间距）`;
      state.distance = text;
      $('measurement').textContent = `测距：${text}`;
    }
    drawMeasurement();
  });

  function drawMeasurement() {
    overlay.replaceChildren();
    if (!state.points.length || !image.naturalWidth) return;
    const box = image.getBoundingClientRect();
    const frame = stage.getBoundingClientRect();
    const at = ([column, row]) => [
      box.left - frame.left + (column / image.naturalWidth) * box.width,
      box.top - frame.top + (row / image.naturalHeight) * box.height,
    ];
    const svg = 'http://www.w3.org/2000/svg';
    const points = state.points.map(at);
    for (const [x, y] of points) {
      const dot = document.createElementNS(svg, 'circle');
      Object.entries({ cx: x, cy: y, r: 3, fill: '#ffd54f' }).forEach(([k, v]) => dot.setAttribute(k, v));
      overlay.append(dot);
    }
    if (points.length === 2) {
      const line = document.createElementNS(svg, 'line');
      const [[x1, y1], [x2, y2]] = points;
      Object.entries({ x1, y1, x2, y2, stroke: '#ffd54f', 'stroke-width': 2 }).forEach(([k, v]) => line.setAttribute(k, v));
      const label = document.createElementNS(svg, 'text');
      Object.entries({ x: x2 + 6, y: y2 - 6, fill: '#ffd54f', 'font-size': 14 }).forEach(([k, v]) => label.setAttribute(k, v));
      label.textContent = state.distance || '';
      overlay.append(line, label);
    }
  }

  image.addEventListener('load', transform);
  window.addEventListener('resize', transform);
  show();
}
