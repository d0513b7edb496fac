// The map (Leaflet, served by vigied from /vendor/leaflet): the offline base
// layer (departments and the communes of the demonstration's area, from
// /geo/), or tiles from the centre's own tile server when vigied is
// configured with one; the incidents in progress; and for the incident chosen,
// both tracks with their accuracy, the rings, the fixed zones and the guidance.
/* global L */
import { t } from './i18n.js';
import { destination, windowOpen, metres, compass } from './util.js';

const COLOURS = { author: '#0b3d91', protected: '#0f7b3f', r: '#b3261e', r2: '#b86e00', zone: '#6a1b9a' };

export class ConsoleMap {
  constructor(el, cfg) {
    this.el = el;
    this.map = L.map(el, { zoomControl: true, attributionControl: true, preferCanvas: false })
      .setView([46.6, 2.4], 6);
    this.map.attributionControl.setPrefix('Leaflet');
    this.base = L.layerGroup().addTo(this.map);
    this.incidentLayer = L.layerGroup().addTo(this.map);
    this.detail = L.layerGroup().addTo(this.map);
    this.markers = new Map(); // incident id -> marker
    this.cfg = cfg || {};
    this.loadBase();
  }

  async loadBase() {
    if (this.cfg.tiles) {
      L.tileLayer(this.cfg.tiles, { attribution: this.cfg.tiles_attribution || '', maxZoom: 19 }).addTo(this.base);
      return;
    }
    this.map.attributionControl.addAttribution(t('map.attribution'));
    try {
      const dep = await (await fetch('geo/departements.geojson')).json();
      L.geoJSON(dep, { interactive: false, style: { color: '#5b6573', weight: 1.2, fillColor: '#eef1f4', fillOpacity: 1 } })
        .addTo(this.base);
      const com = await (await fetch('geo/communes-44-loire-atlantique.geojson')).json();
      this.communes = L.geoJSON(com, {
        interactive: false,
        style: { color: '#9aa3ad', weight: 0.6, fill: false },
      });
      const label = L.layerGroup();
      for (const f of com.features) {
        if (!f.properties || !f.properties.nom) continue;
        const c = L.geoJSON(f).getBounds().getCenter();
        label.addLayer(L.marker(c, {
          interactive: false, keyboard: false,
          icon: L.divIcon({ className: 'commune-label', html: '', iconSize: null }),
        }).on('add', (e) => { e.target.getElement().textContent = f.properties.nom; }));
      }
      const zoomed = () => {
        const z = this.map.getZoom();
        if (z >= 9) this.communes.addTo(this.base); else this.base.removeLayer(this.communes);
        if (z >= 12) label.addTo(this.base); else this.base.removeLayer(label);
      };
      this.map.on('zoomend', zoomed);
      zoomed();
      this.el.dataset.baseLoaded = 'true';
    } catch (e) {
      this.el.dataset.baseLoaded = 'false';
    }
  }

  invalidate() { this.map.invalidateSize(); }

  // ---- the incidents in progress -------------------------------------------------------------

  setIncidentMarker(inc, pos, onClick) {
    let m = this.markers.get(inc.id);
    if (!pos) return;
    if (!m) {
      m = L.marker([pos.lat, pos.lon], {
        icon: L.divIcon({ className: 'incident-marker', html: '', iconSize: [34, 22], iconAnchor: [17, 11] }),
        keyboard: true, title: t('inc.title', { id: inc.id }), riseOnHover: true,
      });
      m.on('click', () => onClick(inc.id));
      m.on('add', () => this.styleMarker(m, m.vgInc));
      m.vgInc = inc;
      m.addTo(this.incidentLayer);
      this.markers.set(inc.id, m);
    } else {
      m.setLatLng([pos.lat, pos.lon]);
    }
    m.vgInc = inc;
    this.styleMarker(m, inc);
  }

  styleMarker(m, inc) {
    const el = m.getElement();
    if (!el || !inc) return;
    el.className = el.className.replace(/\bp[1-5]\b/g, '').trim() + ' p' + inc.priority;
    el.dataset.incident = String(inc.id);
    el.dataset.measure = String(inc.measure_id);
    el.textContent = '#' + inc.id;
    el.setAttribute('aria-label', t('inc.title', { id: inc.id }) + ' — ' + inc.measure + ' — ' + t('prio.' + inc.priority));
  }

  // Nothing chosen: show every incident in progress (once, then the operator
  // moves the map as he likes).
  fitIncidents() {
    if (this.fitted || !this.markers.size) return;
    this.fitted = true;
    const b = L.latLngBounds([...this.markers.values()].map((m) => m.getLatLng()));
    this.map.fitBounds(b.pad(0.5), { maxZoom: 12 });
  }

  removeIncident(id) {
    const m = this.markers.get(id);
    if (m) { this.incidentLayer.removeLayer(m); this.markers.delete(id); }
  }

  selectMarker(id) {
    for (const [k, m] of this.markers) {
      const el = m.getElement();
      if (el) el.classList.toggle('selected', k === id);
    }
  }

  // ---- one incident's measure ----------------------------------------------------------------

  clearDetail() {
    this.detail.clearLayers();
    this.tracks = null;
  }

  // measure: GET /measures/ID; positions: GET /measures/ID/positions; guidance: the incident's
  showMeasure(measure, positions, guidance, fit) {
    this.clearDetail();
    const def = measure.definition || {};
    const R = def.alert_radius_m || measure.alert_radius_m || 1000;
    this.R = R;
    const layers = [];
    const now = Date.now();
    for (const z of def.zones || []) {
      const zr = z.alert_radius_m || R;
      const open = (z.windows || []).some((w) => windowOpen(w, now, def.timezone));
      const state = !(z.windows || []).length ? t('map.no_window') : open ? t('map.window_open') : t('map.window_closed');
      const label = `${t('zone.' + z.category)} (#${z.id}) — ${state}`;
      const cls = 'zone' + (open ? ' zone-open' : '');
      if (z.shape === 'circle' || z.center) {
        const c = z.center;
        layers.push(L.circle(c, { radius: zr, color: COLOURS.r, weight: 1.5, dashArray: '6 4', fill: false, className: cls }).bindTooltip(label + ' — ' + t('map.r', { m: metres(zr) })));
        layers.push(L.circle(c, { radius: 2 * zr, color: COLOURS.r2, weight: 1.2, dashArray: '3 5', fill: false, className: cls }).bindTooltip(label + ' — ' + t('map.r2', { m: metres(2 * zr) })));
        layers.push(L.circleMarker(c, { radius: 6, color: COLOURS.zone, weight: 2, fillColor: open ? '#ffd54f' : COLOURS.zone, fillOpacity: 0.9, className: cls }).bindTooltip(label));
      } else if (z.vertices) {
        layers.push(L.polygon(z.vertices, { color: COLOURS.zone, weight: 2, fillColor: open ? '#ffd54f' : COLOURS.zone, fillOpacity: 0.25, className: cls }).bindTooltip(label));
      }
    }
    for (const p of def.safe_places || []) {
      layers.push(L.circleMarker(p.location, { radius: 5, color: '#1b5e20', weight: 2, fillColor: '#fff', fillOpacity: 1 }).bindTooltip(p.name));
    }
    const tracks = { author: null, protected: null };
    for (const who of ['author', 'protected']) {
      const tr = positions && positions[who];
      if (!tr || !tr.points || !tr.points.length) continue;
      tracks[who] = this.drawTrack(who, tr.points, layers);
    }
    this.tracks = tracks;
    this.guidance = guidance;
    for (const l of layers) l.addTo(this.detail);
    this.drawRings();
    this.drawGuidance();
    if (fit) {
      const pts = [];
      for (const who of ['author', 'protected']) if (tracks[who]) pts.push(...tracks[who].line.getLatLngs());
      for (const z of def.zones || []) if (z.center) pts.push(L.latLng(z.center));
      if (pts.length) this.map.fitBounds(L.latLngBounds(pts).pad(0.25), { maxZoom: 15 });
    }
  }

  drawTrack(who, points, layers) {
    const colour = COLOURS[who];
    const line = L.polyline(points.map((p) => [p.lat, p.lon]), { color: colour, weight: 3, opacity: 0.85, className: 'track track-' + who });
    const circles = L.layerGroup();
    // accuracy circles: every point's, faint; the last one's marked
    for (const p of points.slice(-60)) {
      circles.addLayer(L.circle([p.lat, p.lon], { radius: Math.max(1, p.accuracy_m || 0), color: colour, weight: 0.5, fillOpacity: 0.06, interactive: false }));
    }
    const last = points[points.length - 1];
    const head = L.circleMarker([last.lat, last.lon], { radius: 7, color: '#fff', weight: 2, fillColor: colour, fillOpacity: 1, className: 'head head-' + who })
      .bindTooltip(`${t('map.' + who)} — ${new Date(last.time_ms).toLocaleTimeString()} — ${t('map.accuracy', { m: Math.round(last.accuracy_m || 0) })}`);
    const acc = L.circle([last.lat, last.lon], { radius: Math.max(1, last.accuracy_m || 0), color: colour, weight: 1.5, fillOpacity: 0.15, interactive: false });
    layers.push(line, circles, acc, head);
    return { line, circles, head, acc, last, points: points.slice() };
  }

  // A live position of the chosen measure's person.
  addPosition(who, p) {
    if (!this.tracks) return;
    let tr = this.tracks[who];
    if (!tr) {
      const layers = [];
      tr = this.tracks[who] = this.drawTrack(who, [p], layers);
      for (const l of layers) l.addTo(this.detail);
    } else {
      tr.line.addLatLng([p.lat, p.lon]);
      tr.circles.addLayer(L.circle([p.lat, p.lon], { radius: Math.max(1, p.accuracy_m || 0), color: COLOURS[who], weight: 0.5, fillOpacity: 0.06, interactive: false }));
      tr.head.setLatLng([p.lat, p.lon]);
      tr.acc.setLatLng([p.lat, p.lon]).setRadius(Math.max(1, p.accuracy_m || 0));
      tr.last = p;
      tr.points.push(p);
    }
    if (who === 'protected') this.drawRings();
    this.drawGuidance();
  }

  // R and 2R around her last position, when the centre gives it.
  drawRings() {
    if (this.rings) this.rings.forEach((l) => this.detail.removeLayer(l));
    this.rings = [];
    const her = this.tracks && this.tracks.protected;
    if (!her) return;
    const c = [her.last.lat, her.last.lon];
    this.rings.push(
      L.circle(c, { radius: this.R, color: COLOURS.r, weight: 2, fill: false, className: 'ring ring-r' }).bindTooltip(t('map.r', { m: metres(this.R) })),
      L.circle(c, { radius: 2 * this.R, color: COLOURS.r2, weight: 2, fill: false, className: 'ring ring-2r' }).bindTooltip(t('map.r2', { m: metres(2 * this.R) })),
    );
    this.rings.forEach((l) => l.addTo(this.detail));
  }

  // The guidance's arrows: from him along his instruction, from her along hers.
  drawGuidance() {
    if (this.arrows) this.arrows.forEach((l) => this.detail.removeLayer(l));
    this.arrows = [];
    const g = this.guidance;
    if (!g || !this.tracks) return;
    const arrow = (from, deg, len, colour, label, cls) => {
      const to = destination(from[0], from[1], deg, len);
      const a1 = destination(to[0], to[1], deg + 150, len * 0.18);
      const a2 = destination(to[0], to[1], deg - 150, len * 0.18);
      this.arrows.push(
        L.polyline([from, to], { color: colour, weight: 4, opacity: 0.9, className: 'arrow ' + cls }).bindTooltip(label),
        L.polygon([to, a1, a2], { color: colour, weight: 1, fillColor: colour, fillOpacity: 1, className: 'arrow-head ' + cls }),
      );
    };
    const him = this.tracks.author, her = this.tracks.protected;
    if (him && g.author && g.author.valid) {
      arrow([him.last.lat, him.last.lon], g.author.bearing_deg, Math.min(g.author.tell_m || 1000, 3000), COLOURS.author,
        t('map.go_author', { c: compass(g.author.compass), km: metres(g.author.tell_m) }), 'arrow-author');
    }
    if (her && g.protected && g.protected.valid) {
      const len = g.protected.safe_place ? g.protected.safe_place.distance_m : Math.max(300, Math.min(1000, this.R / 2));
      arrow([her.last.lat, her.last.lon], g.protected.bearing_deg, len, COLOURS.protected,
        t('map.go_protected', { c: compass(g.protected.compass) }), 'arrow-protected');
    }
    this.arrows.forEach((l) => l.addTo(this.detail));
  }

  setGuidance(g) {
    this.guidance = g;
    this.drawGuidance();
  }
}
