// framelock virtual-time runtime and seek driver.
//
// Injected with Page.addScriptToEvaluateOnNewDocument, so it runs before any page script.
// Everything the page sees of time and chance comes from the frame index: the clock, timers,
// requestAnimationFrame, Math.random and crypto. The renderer calls __framelock.seek(i) before
// capturing frame i; seek fires due timers, advances the clock, runs animation-frame callbacks
// and then applies every seek protocol the page offers (DESIGN.md, "Composition page protocol").
//
// The Rust side fills in the configuration placeholder below with a JSON object:
//   { virtualTime, seedText, fpsNum, fpsDen, epochMs, fault, variables, videoMode, videos }
// `videos` are the page's <video> elements as the plan found them ({ key, id, index, frames,
// fpsNum, fpsDen }); with videoMode 'inject' each shows, as its poster, the extracted frame the
// media time formula gives, and no media element ever loads its source.
// `fault` is null except under the harness's self-tests (`regress --inject`), which must prove
// that drift is found: { kind: 'clock-shift', k } | { kind: 'no-reseed' } | { kind: 'cold-walk' } |
// { kind: 'wall-clock', from, to } | { kind: 'video-offset', k }.
(() => {
  'use strict';
  if (window.__framelock) return;
  const cfg = __FRAMELOCK_CONFIG__;
  const fault = cfg.fault || { kind: 'none' };
  // Timers of the real clock, for waits on the browser itself (a native video seek).
  const realSetTimeout = window.setTimeout.bind(window);
  const fpsNum = cfg.fpsNum;
  const fpsDen = cfg.fpsDen;
  // t_j in milliseconds, from the index alone: never accumulated.
  const frameMs = (j) => (j * 1000 * fpsDen) / fpsNum;
  // The frame whose preparation a time belongs to: the smallest k with frameMs(k) >= ms,
  // so a timer due in (t_{k-1}, t_k] fires while frame k is prepared.
  const frameOf = (ms) => {
    if (ms <= 0) return 0;
    let k = Math.ceil((ms * fpsNum) / (1000 * fpsDen));
    while (k > 0 && frameMs(k - 1) >= ms) k -= 1;
    while (frameMs(k) < ms) k += 1;
    return k;
  };

  // Exceptions of the seek protocols make the frame meaningless: the renderer fails on them.
  // Exceptions of the page's own callbacks (timers, animation frames) are what an uncaught
  // exception is in a browser: reported with their frame, and the page goes on.
  const errors = [];
  const pageErrors = [];
  const describe = (where, e) =>
    `${where}: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : String(e)}`;
  const report = (where, e) => errors.push(describe(where, e));
  const reportPage = (where, e) => pageErrors.push(describe(where, e));

  let nowMs = 0;
  // True while the wall-clock fault lets real time through to Date.now() and performance.now().
  let leaking = false;

  // ---- the machine --------------------------------------------------------------------------
  // What the page's own objects would tell of the host, pinned before any page script runs
  // (environment.rs pins the rest through DevTools; README.md, "The page environment"): a
  // window that is the frame, a machine with 8 GB of memory, on mains power and full, on a steady 4g-like network, with
  // 1 GiB of storage quota, a fixed JavaScript heap and no cameras or microphones.
  const pin = (proto, name, value) => {
    if (proto && name in proto) {
      Object.defineProperty(proto, name, { get: () => value, configurable: true, enumerable: true });
    }
  };
  pin(Navigator.prototype, 'deviceMemory', 8);
  // The window is the frame at (0, 0). The outer size otherwise arrives from the browser
  // process when it arrives: a sandboxed browser showed 0x0 to the page's scripts.
  for (const [name, value] of [
    ['outerWidth', () => window.innerWidth],
    ['outerHeight', () => window.innerHeight],
    ['screenX', () => 0],
    ['screenY', () => 0],
    ['screenLeft', () => 0],
    ['screenTop', () => 0],
  ]) {
    Object.defineProperty(window, name, { get: value, configurable: true, enumerable: true });
  }
  if (window.NetworkInformation) {
    const net = { type: 'unknown', effectiveType: '4g', downlink: 10, downlinkMax: Infinity, rtt: 50, saveData: false };
    for (const [name, value] of Object.entries(net)) pin(NetworkInformation.prototype, name, value);
  }
  if (Navigator.prototype.getBattery) {
    const battery = new EventTarget();
    const state = { charging: true, chargingTime: 0, dischargingTime: Infinity, level: 1 };
    for (const [name, value] of Object.entries(state)) {
      Object.defineProperty(battery, name, { value, enumerable: true });
    }
    for (const name of ['onchargingchange', 'onchargingtimechange', 'ondischargingtimechange', 'onlevelchange']) {
      battery[name] = null;
    }
    Navigator.prototype.getBattery = function getBattery() {
      return Promise.resolve(battery);
    };
  }
  if (window.StorageManager) {
    // Not the real estimate: it may be refused, or answer late, in a sandboxed browser.
    StorageManager.prototype.estimate = async function () {
      return { quota: 1073741824, usage: 0, usageDetails: {} };
    };
  }
  pin(Performance.prototype, 'memory', Object.freeze({
    jsHeapSizeLimit: 4294705152,
    totalJSHeapSize: 10000000,
    usedJSHeapSize: 10000000,
  }));
  if (window.MediaDevices) {
    MediaDevices.prototype.enumerateDevices = function enumerateDevices() {
      return Promise.resolve([]);
    };
  }

  // ---- seeded randomness -------------------------------------------------------------------
  // cyrb53-style string hash to 4 x 32-bit words, then sfc32. Streams are keyed by
  // (seed, "load") and (seed, frame), so frame j draws the same numbers however it was reached.
  const hashWords = (text) => {
    let h1 = 0x9e3779b9 ^ text.length, h2 = 0x85ebca6b, h3 = 0xc2b2ae35, h4 = 0x27d4eb2f;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
      h3 = Math.imul(h3 ^ c, 2246822507);
      h4 = Math.imul(h4 ^ c, 3266489909);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h3 ^ (h3 >>> 13), 3266489909);
    h3 = Math.imul(h3 ^ (h3 >>> 16), 2246822507) ^ Math.imul(h4 ^ (h4 >>> 13), 3266489909);
    h4 = Math.imul(h4 ^ (h4 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
  };
  let rs = [0, 0, 0, 0];
  let streamKey = null;
  const reseed = (key) => {
    streamKey = key;
    rs = hashWords(`framelock:${cfg.seedText}:${key}`);
    for (let i = 0; i < 12; i++) nextU32();
  };
  const nextU32 = () => {
    let [a, b, c, d] = rs;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    rs = [a, b, c, d];
    return t >>> 0;
  };
  const random = () => nextU32() / 4294967296;
  // Moves to frame k's stream unless it is already in use.
  const useFrameStream = (k) => {
    if (fault.kind === 'no-reseed') return;
    if (streamKey !== k) reseed(k);
  };

  // ---- animation bookkeeping ------------------------------------------------------------------
  // A CSS or Web animation's start is the virtual time at which it was first seen.
  const animStart = new WeakMap();
  const scanAnimations = (atMs) => {
    for (const a of document.getAnimations()) {
      if (!animStart.has(a)) {
        animStart.set(a, atMs);
        a.pause();
      }
    }
  };

  // ---- virtual time -----------------------------------------------------------------------
  const timers = new Map();
  let timerSeq = 0;
  let nextTimerId = 1;
  let rafQueue = [];
  let nextRafId = 1;

  if (cfg.virtualTime) {
    reseed('load');
    const epoch = cfg.epochMs;
    const RealDate = Date;
    const realPerformanceNow = Performance.prototype.now;
    // Date has whole milliseconds, as in a browser; performance.now() keeps the fraction.
    const dateNow = () => (leaking ? RealDate.now() : Math.floor(epoch + nowMs));
    function VirtualDate(...args) {
      if (!new.target) return new RealDate(dateNow()).toString();
      return args.length === 0 ? new RealDate(dateNow()) : new RealDate(...args);
    }
    VirtualDate.prototype = RealDate.prototype;
    VirtualDate.now = dateNow;
    VirtualDate.parse = RealDate.parse;
    VirtualDate.UTC = RealDate.UTC;
    Object.defineProperty(RealDate.prototype, 'constructor', { value: VirtualDate, configurable: true, writable: true });
    window.Date = VirtualDate;

    Performance.prototype.now = function now() {
      return leaking ? realPerformanceNow.call(this) : nowMs;
    };
    // Other clocks a page can read: the document timeline and event time stamps.
    Object.defineProperty(AnimationTimeline.prototype, 'currentTime', { get: () => nowMs, configurable: true });
    Object.defineProperty(Event.prototype, 'timeStamp', { get: () => nowMs, configurable: true });
    Object.defineProperty(Performance.prototype, 'timeOrigin', { get: () => epoch, configurable: true });

    Math.random = random;
    const fill = (array) => {
      const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
      for (let i = 0; i < bytes.length; i++) bytes[i] = nextU32() & 0xff;
      return array;
    };
    Crypto.prototype.getRandomValues = function getRandomValues(array) { return fill(array); };
    Crypto.prototype.randomUUID = function randomUUID() {
      const b = fill(new Uint8Array(16));
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    };

    const addTimer = (fn, delay, args, repeat) => {
      const id = nextTimerId++;
      const ms = Math.max(0, Number(delay) || 0);
      const callback = typeof fn === 'function' ? fn : new Function(String(fn));
      timers.set(id, { callback, args, due: nowMs + ms, seq: timerSeq++, every: repeat ? Math.max(1, ms) : 0 });
      return id;
    };
    window.setTimeout = (fn, delay, ...args) => addTimer(fn, delay, args, false);
    window.setInterval = (fn, delay, ...args) => addTimer(fn, delay, args, true);
    window.clearTimeout = (id) => { timers.delete(id); };
    window.clearInterval = (id) => { timers.delete(id); };
    window.requestAnimationFrame = (cb) => {
      const id = nextRafId++;
      rafQueue.push({ id, cb });
      return id;
    };
    window.cancelAnimationFrame = (id) => { rafQueue = rafQueue.filter((r) => r.id !== id); };
    // Idle callbacks run like zero-delay timers, with a fixed idle budget.
    window.requestIdleCallback = (cb) =>
      addTimer(() => cb({ didTimeout: false, timeRemaining: () => 50 }), 0, [], false);
    window.cancelIdleCallback = (id) => { timers.delete(id); };
  }

  // Fires every timer due at or before `targetMs`, earliest first (ties in creation order),
  // each with the clock at its own due time and the random stream of the frame it belongs to.
  const fireTimers = (targetMs) => {
    for (;;) {
      let next = null;
      let nextId = 0;
      for (const [id, t] of timers) {
        if (t.due <= targetMs && (!next || t.due < next.due || (t.due === next.due && t.seq < next.seq))) {
          next = t;
          nextId = id;
        }
      }
      if (!next) return;
      const due = next.due;
      useFrameStream(frameOf(due));
      nowMs = due;
      if (next.every) {
        next.due += next.every;
        next.seq = timerSeq++;
      } else {
        timers.delete(nextId);
      }
      try {
        next.callback(...next.args);
      } catch (e) {
        reportPage(`timer due at ${due} ms`, e);
      }
      scanAnimations(nowMs);
    }
  };

  // ---- HyperFrames timing attributes --------------------------------------------------------
  // data-start is seconds, or `id`, `id + x`, `id - x`: relative to the END of clip `id`.
  // Every [data-start] element below the root is visible exactly in [start, start + duration).
  // The composition root, as HyperFrames finds it.
  const rootElement = () =>
    document.querySelector('[data-root="true"]') || document.querySelector('[data-composition-id]');
  const resolveClips = () => {
    const root = rootElement();
    if (!root) return [];
    const cache = new Map();
    const startOf = (el, depth) => {
      if (cache.has(el)) return cache.get(el);
      if (depth > 64) return 0;
      const text = (el.getAttribute('data-start') || '0').trim();
      let start = 0;
      const n = Number(text);
      // As HyperFrames reads it: a number; else, if the whole text can be an id, a reference
      // to that id (so `scene-1` is the clip `scene-1`); else `id + x` or `id - x`.
      const m = text !== '' && Number.isFinite(n)
        ? null
        : /^[A-Za-z0-9_.:-]+$/.test(text)
          ? [text, text]
          : /^([A-Za-z0-9_.:-]+?)\s*([+-])\s*(\d+(?:\.\d+)?)$/.exec(text);
      if (text !== '' && Number.isFinite(n)) {
        start = n;
      } else {
        const byId = (id) =>
          document.getElementById(id) || document.querySelector(`[data-composition-id="${CSS.escape(id)}"]`);
        const target = m && byId(m[1]);
        if (target) {
          const offset = m[2] ? (m[2] === '-' ? -1 : 1) * Number(m[3]) : 0;
          const d = durationOf(target);
          start = Math.max(0, startOf(target, depth + 1) + (d === null ? 0 : d) + offset);
        }
      }
      cache.set(el, start);
      return start;
    };
    const durationOf = (el) => {
      const d = Number(el.getAttribute('data-duration'));
      if (Number.isFinite(d) && d > 0) return d;
      const end = Number(el.getAttribute('data-end'));
      if (el.hasAttribute('data-end') && Number.isFinite(end)) return Math.max(0, end - startOf(el, 0));
      return null;
    };
    return [...root.querySelectorAll('[data-start]')].map((el) => {
      const start = startOf(el, 0);
      const d = durationOf(el);
      return { el, start, end: d === null ? Infinity : start + d };
    });
  };
  // Resolved at every frame: scripts may add clips or change their timing.
  const applyClips = (t) => {
    for (const c of resolveClips()) {
      const visible = t >= c.start && t < c.end;
      c.el.style.visibility = visible ? 'visible' : 'hidden';
    }
  };

  // ---- media -------------------------------------------------------------------------------
  // Sound is mixed at plan time, so no <audio> plays; injected videos never load either. Their
  // sources are taken away as the parser inserts them, before the browser starts a fetch.
  const videos = cfg.videos || [];
  const injectVideos = cfg.videoMode !== 'native';
  const silence = (el) => {
    const tag = el.tagName;
    if (tag === 'SOURCE' && el.parentElement && /^(VIDEO|AUDIO)$/.test(el.parentElement.tagName)) {
      if (injectVideos || el.parentElement.tagName === 'AUDIO') el.remove();
      return;
    }
    if (tag !== 'VIDEO' && tag !== 'AUDIO') return;
    el.muted = true;
    el.autoplay = false;
    if (tag === 'AUDIO' || injectVideos) {
      el.preload = 'none';
      if (el.hasAttribute('src')) el.removeAttribute('src');
      for (const s of el.querySelectorAll('source')) s.remove();
    } else {
      el.preload = 'auto';
    }
  };
  new MutationObserver((records) => {
    for (const r of records) {
      for (const node of r.addedNodes) {
        if (node.nodeType !== 1) continue;
        silence(node);
        for (const el of node.querySelectorAll('video, audio, source')) silence(el);
      }
    }
  }).observe(document, { childList: true, subtree: true });

  const videoElement = (v) =>
    (v.id && document.getElementById(v.id)) || document.querySelectorAll('video')[v.index] || null;
  // DESIGN.md "Media time": τ = M + (t − S)·r; frame floor(τ·f + 1e-9), wrapped modulo the
  // frame count when looping (the same as wrapping τ modulo the source length, without a
  // float remainder landing just below a whole frame), else clamped to the last. Start S and
  // the visible interval come from the clip rules.
  const videoFrame = (v, el, clip, t) => {
    const start = clip ? clip.start : 0;
    const end = clip ? clip.end : Infinity;
    if (t < start || t >= end) return null;
    const num = (name, dflt) => {
      const x = Number(el.getAttribute(name));
      return el.hasAttribute(name) && Number.isFinite(x) ? x : dflt;
    };
    const rate = num('data-playback-rate', 1);
    const tau = num('data-media-start', 0) + (t - start) * rate;
    // Only the harness's self-test fault shows another frame than the formula's.
    const shift = fault.kind === 'video-offset' ? fault.k : 0;
    const k = Math.max(0, Math.floor((tau * v.fpsNum) / v.fpsDen + 1e-9) + shift);
    const frame = el.loop ? k % v.frames : Math.min(v.frames - 1, k);
    return { k: frame, tau: (frame * v.fpsDen) / v.fpsNum };
  };
  const frameUrl = (v, k) =>
    `/__framelock/video-frames/${encodeURIComponent(v.key)}/frame_${String(k).padStart(6, '0')}.png`;
  // What each video showed at the last seek, for the renderer's records.
  const shown = {};
  const applyVideos = async (t) => {
    if (videos.length === 0) return;
    const clips = new Map(resolveClips().map((c) => [c.el, c]));
    await Promise.all(videos.map(async (v) => {
      const el = videoElement(v);
      if (!el) return;
      const at = videoFrame(v, el, clips.get(el), t);
      shown[v.key] = at ? at.k : null;
      if (!at) return;
      if (injectVideos) {
        const url = frameUrl(v, at.k);
        if (el.getAttribute('poster') !== url) {
          const img = new Image();
          img.src = url;
          try {
            await img.decode();
          } catch (e) {
            report(`video ${v.key} frame ${at.k} (${url})`, e);
          }
          el.setAttribute('poster', url);
        }
        return;
      }
      // Native: the browser's decoder, seeked to τ; a seek that never completes is reported.
      if (Math.abs(el.currentTime - at.tau) < 1e-6 && !el.seeking) return;
      await new Promise((resolve) => {
        const done = () => resolve();
        el.addEventListener('seeked', done, { once: true });
        realSetTimeout(() => {
          el.removeEventListener('seeked', done);
          report(`native video seek of ${v.key} to ${at.tau}`, new Error('no seeked event within 5 s'));
          resolve();
        }, 5000);
        el.currentTime = at.tau;
      });
    }));
  };

  const timelines = () => {
    const tls = window.__timelines;
    if (!tls) return [];
    return (Array.isArray(tls) ? tls : Object.values(tls)).filter((tl) => tl && typeof tl.seek === 'function');
  };

  // GSAP timelines, seeked with events on, so .call() callbacks crossed since the last seek
  // fire, in order, as in HyperFrames' own renderer. GSAP renders nothing for a seek to the time
  // a timeline stands at, so a fresh timeline would not show its .set() at 0 on frame 0: the
  // first time a timeline is seeked where it stands, it is nudged a millisecond away and back
  // with events off, as HyperFrames does, and its zero-length children (.set(), .call()) get
  // back the state GSAP keeps of whether they have run, so none runs twice.
  const nudged = new WeakSet();
  const zeroLength = (tl) =>
    (typeof tl.getChildren === 'function' ? tl.getChildren(true, true, false) : [])
      .filter((c) => typeof c.duration === 'function' && c.duration() === 0);
  const seekTimelines = (t) => {
    for (const tl of timelines()) {
      try {
        tl.pause();
        const to = Math.min(t, typeof tl.duration === 'function' ? tl.duration() : t);
        if (!nudged.has(tl) && typeof tl.time === 'function' && tl.time() === to) {
          nudged.add(tl);
          const kept = zeroLength(tl).map((c) => [c, c.ratio, c._zTime]);
          tl.seek(to > 0 ? to - 1e-3 : to + 1e-3, true);
          tl.seek(to, true);
          for (const [c, ratio, zTime] of kept) {
            c.ratio = ratio;
            c._zTime = zTime;
          }
        } else {
          nudged.add(tl);
          tl.seek(to, false);
        }
      } catch (e) {
        report(`window.__timelines seek(${t})`, e);
      }
    }
  };

  // The page's visible state at t, as every seek protocol the page offers sets it
  // (DESIGN.md, "Composition page protocol"). Videos are shown by the seek alone.
  const pose = async (t, targetMs, withVideos) => {
    // 1. HyperFrames' window.__hf protocol, then its timing attributes.
    if (window.__hf && typeof window.__hf.seek === 'function') {
      try {
        await window.__hf.seek(t);
      } catch (e) {
        report(`window.__hf.seek(${t})`, e);
      }
    }
    applyClips(t);
    if (withVideos) await applyVideos(t);
    // 2. GSAP timelines.
    seekTimelines(t);
    // 3. CSS animations and Web Animations, from their own virtual start.
    scanAnimations(targetMs);
    for (const a of document.getAnimations()) {
      a.pause();
      a.currentTime = targetMs - animStart.get(a);
    }
    // 4. SVG SMIL, on every root <svg>.
    for (const svg of document.querySelectorAll('svg')) {
      if (!svg.ownerSVGElement && typeof svg.setCurrentTime === 'function') {
        svg.pauseAnimations();
        svg.setCurrentTime(t);
      }
    }
  };

  // A session that starts at frame s > 0 first walks frames 0..s-1: timers and timeline
  // callbacks run where and when they ran in a continuous render (each frame's clock and random
  // stream), and each frame is posed, so the state they leave is the same. The page's own
  // animation-frame callbacks are not replayed: state a page accumulates there differs at a
  // chunk start, which is the chunk-boundary finding.
  let walked = 0;
  const walkStep = async (j) => {
    // As a seek does: animations made since the last step started at its clock.
    scanAnimations(nowMs);
    const ms = frameMs(j);
    if (cfg.virtualTime) {
      fireTimers(ms);
      useFrameStream(j);
    }
    nowMs = ms;
    scanAnimations(ms);
    await pose(ms / 1000, ms, false);
    scanAnimations(ms);
  };

  // The compositor keeps, for as long as a layer lives, the raster translation and scale it
  // gave the layer's tiles when it first drew a layer under a will-change hint on transform
  // (Chromium's PictureLayerImpl does not re-raster those while they move). A walk that never
  // draws leaves those layers to be created at the chunk's first frame, at another sub-pixel
  // offset: faint differences in tile-shaped rectangles around the text they carry. So the walk
  // stops where a continuous render created such a layer (frame 0, and wherever one appears,
  // disappears or changes size) and at the RECENT frames before the chunk, for the renderer to
  // draw that frame. A frame's raster also rests on the two frames drawn before it (a layer
  // scaled by its transform keeps the tilings of the raster scales just before as it moves to
  // a new one: a bar growing by scaleY differed in its bottom edge's row otherwise).
  const RECENT = 2;
  const WILL_CHANGE_TRANSFORM = /transform|translate|rotate|scale|offset/;
  const hintedLayers = () => {
    let key = '';
    for (const el of document.querySelectorAll('*')) {
      if (!WILL_CHANGE_TRANSFORM.test(getComputedStyle(el).willChange)) continue;
      const shown = el.checkVisibility({ visibilityProperty: true, opacityProperty: true });
      const r = el.getBoundingClientRect();
      const onScreen = r.right > 0 && r.bottom > 0 && r.left < innerWidth && r.top < innerHeight;
      key += `${shown && onScreen ? 1 : 0}:${sizeOf(el)};`;
    }
    return key;
  };
  // The layer's own size (an SVG element has no offset size: its box).
  const sizeOf = (el) => {
    if (!(el instanceof SVGGraphicsElement)) return `${el.offsetWidth}x${el.offsetHeight}`;
    try {
      const b = el.getBBox();
      return `${b.width}x${b.height}`;
    } catch (e) {
      return 'svg';
    }
  };
  let lastHinted = null;
  // Steps per call: the renderer's frame timeout bounds each call, however long the walk.
  const WALK_STEPS = 200;
  const walk = async (captured) => {
    errors.length = 0;
    pageErrors.length = 0;
    // Under the harness's clock-shift fault, to the frame the seek will show.
    const frame = Math.max(0, captured + (fault.kind === 'clock-shift' ? fault.k : 0));
    // The harness's self-test fault: a walk that draws nothing.
    if (fault.kind === 'cold-walk') await catchUp(frame);
    let draw = null;
    for (let steps = 0; walked < frame && draw === null && steps < WALK_STEPS; steps++) {
      const j = walked++;
      await walkStep(j);
      const hinted = hintedLayers();
      if (j === 0 || j >= frame - RECENT || hinted !== lastHinted) draw = j;
      lastHinted = hinted;
    }
    if (draw !== null) await document.fonts.ready;
    return { draw, done: walked >= frame, errors: errors.slice(), pageErrors: pageErrors.slice() };
  };
  const catchUp = async (frame) => {
    while (walked < frame) await walkStep(walked++);
  };

  // ---- the seek driver -------------------------------------------------------------------
  let seeking = false;
  let seeked = false;
  const seek = async (captured) => {
    if (seeking) throw new Error('framelock: overlapping seeks');
    // Only the harness's self-test faults move the page away from the captured frame or let
    // the real clock in.
    const frame = Math.max(0, captured + (fault.kind === 'clock-shift' ? fault.k : 0));
    leaking = fault.kind === 'wall-clock' && captured >= fault.from && captured < fault.to;
    seeking = true;
    try {
      errors.length = 0;
      pageErrors.length = 0;
      const targetMs = frameMs(frame);
      const t = targetMs / 1000;
      // Animations that exist before this frame was prepared started at the previous clock
      // (0 on a fresh page: load-time animations).
      scanAnimations(nowMs);
      if (!seeked) {
        seeked = true;
        await catchUp(frame);
      }
      if (cfg.virtualTime) {
        fireTimers(targetMs);
        useFrameStream(frame);
        nowMs = targetMs;
        const queue = rafQueue;
        rafQueue = [];
        for (const { cb } of queue) {
          try {
            cb(targetMs);
          } catch (e) {
            reportPage(`requestAnimationFrame callback at frame ${frame}`, e);
          }
        }
      } else {
        nowMs = targetMs;
      }
      scanAnimations(targetMs);

      await pose(t, targetMs, true);
      // A frame never shows a half-loaded state.
      await document.fonts.ready;
      await Promise.all([...document.images].map((img) => (img.src ? img.decode().catch(() => {}) : null)));
      return { errors: errors.slice(), pageErrors: pageErrors.slice(), videos: Object.assign({}, shown) };
    } finally {
      seeking = false;
    }
  };

  // ---- naming what differs ----------------------------------------------------------------
  // The elements whose boxes cover the cells where two renders' pixels differ: for each cell,
  // the smallest rendered element whose box holds its centre is credited with its pixels, so a
  // badge wins over the root that also holds it. Largest share first.
  const selectorOf = (el) => {
    const parts = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      if (e.id) {
        parts.unshift(`#${CSS.escape(e.id)}`);
        break;
      }
      const tag = e.localName;
      if (e === document.documentElement || e === document.body) {
        parts.unshift(tag);
        break;
      }
      const same = e.parentElement ? [...e.parentElement.children].filter((c) => c.localName === tag) : [e];
      parts.unshift(same.length > 1 ? `${tag}:nth-of-type(${same.indexOf(e) + 1})` : tag);
    }
    return parts.join(' > ');
  };
  const elementsAt = (cells) => {
    const boxes = [];
    for (const el of document.querySelectorAll('body *')) {
      if (!el.checkVisibility({ visibilityProperty: true, opacityProperty: true })) continue;
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.height > 0) boxes.push({ el, r, area: r.width * r.height });
    }
    const credit = new Map();
    let total = 0;
    for (const c of cells) {
      const [x, y] = [c.x + c.width / 2, c.y + c.height / 2];
      let best = null;
      for (const b of boxes) {
        if (x >= b.r.left && x < b.r.right && y >= b.r.top && y < b.r.bottom && (!best || b.area < best.area)) best = b;
      }
      total += c.pixels;
      if (best) credit.set(best.el, (credit.get(best.el) || 0) + c.pixels);
    }
    return [...credit.entries()]
      .map(([el, pixels]) => ({ selector: selectorOf(el), share: pixels / total }))
      .sort((a, b) => b.share - a.share);
  };

  // The length the page declares: the root's data-duration (HyperFrames: it wins over
  // scripts), then __hf.duration, then the longest registered timeline.
  const duration = () => {
    const root = rootElement();
    const rd = root && Number(root.getAttribute('data-duration'));
    if (rd && Number.isFinite(rd) && rd > 0) return { seconds: rd, source: 'root-attribute' };
    const hf = window.__hf;
    if (hf) {
      const d = typeof hf.duration === 'function' ? hf.duration() : hf.duration;
      if (Number.isFinite(d) && d > 0) return { seconds: d, source: 'hf-protocol' };
    }
    const longest = Math.max(0, ...timelines().map((tl) => (typeof tl.duration === 'function' ? tl.duration() : 0)));
    if (longest > 0) return { seconds: longest, source: 'timelines' };
    return null;
  };

  // Variables are visible before page scripts run: raw in window.__hfVariables (HyperFrames'
  // engine global) and merged over data-composition-variables defaults by
  // window.__hyperframes.getVariables(), which HyperFrames pages call.
  const variables = Object.freeze(Object.assign({}, cfg.variables));
  Object.defineProperty(window, '__hfVariables', { value: variables, configurable: true, writable: true });
  if (!window.__hyperframes) {
    window.__hyperframes = {
      getVariables() {
        const merged = {};
        for (const el of document.querySelectorAll('[data-composition-variables]')) {
          try {
            for (const v of JSON.parse(el.getAttribute('data-composition-variables'))) {
              if (v && typeof v.id === 'string' && 'default' in v) merged[v.id] = v.default;
            }
          } catch (e) {
            report('data-composition-variables', e);
          }
        }
        return Object.assign(merged, window.__hfVariables);
      },
    };
  }

  // The current frame, for the renderer's reports (console messages, blocked requests).
  Object.defineProperty(window, '__framelock', {
    value: Object.freeze({ seek, walk, elementsAt, duration, frameMs, frameOf, shown }),
    enumerable: false,
  });
})();
