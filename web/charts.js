// Small SVG charts: bars with labels and an optional reference line. No library, no CDN.
const NS = "http://www.w3.org/2000/svg";

function svgEl(tag, attributes = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

// bars: [{label, value}]; options: {max, color, format, line: {value, label}, title}
export function barChart(bars, options = {}) {
  const width = 360, height = 200, left = 36, bottom = 28, top = 14;
  const max = Math.max(options.max ?? 0, options.line?.value ?? 0, ...bars.map((b) => b.value), 1);
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": options.title || "chart" });
  const plotHeight = height - bottom - top;
  const slot = (width - left - 8) / Math.max(bars.length, 1);
  const y = (value) => top + plotHeight - (value / max) * plotHeight;
  svg.append(svgEl("line", { x1: left, x2: width - 4, y1: y(0), y2: y(0), stroke: "#9aa3b2" }));
  svg.append(svgEl("text", { x: left - 6, y: y(max) + 4, "text-anchor": "end", "font-size": 10, fill: "#5b6475" },
    (options.format || String)(max)));
  bars.forEach((bar, index) => {
    const x = left + index * slot + slot * 0.15;
    const barHeight = y(0) - y(bar.value);
    const rect = svgEl("rect", { x, y: y(bar.value), width: slot * 0.7, height: Math.max(barHeight, 0),
      fill: bar.color || options.color || "#2455c3", class: "bar", "data-value": bar.value });
    rect.append(svgEl("title", {}, `${bar.label}: ${(options.format || String)(bar.value)}`));
    svg.append(rect);
    if (index % Math.ceil(bars.length / 7) === 0 || index === bars.length - 1) { // at most ~8 labels fit
      svg.append(svgEl("text", { x: x + slot * 0.35, y: height - bottom + 14, "text-anchor": "middle", "font-size": 10,
        fill: "#5b6475" }, bar.label));
    }
  });
  if (options.line) {
    svg.append(svgEl("line", { x1: left, x2: width - 4, y1: y(options.line.value), y2: y(options.line.value),
      stroke: "#b3261e", "stroke-dasharray": "4 3", class: "reference" }));
    svg.append(svgEl("text", { x: width - 6, y: y(options.line.value) - 4, "text-anchor": "end", "font-size": 10,
      fill: "#b3261e" }, options.line.label));
  }
  return svg;
}
