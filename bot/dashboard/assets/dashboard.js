// Draws each <canvas data-chart="ID"> from the JSON in <script type="application/json" id="ID">.
// Served by the bot (script-src 'self'); the data is parsed, never evaluated.
(() => {
  'use strict';
  for (const canvas of document.querySelectorAll('canvas[data-chart]')) {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source) continue;
    const spec = JSON.parse(source.textContent);
    const bar = spec.type === 'bar';
    new window.Chart(canvas, {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map((d) => ({
          label: d.label,
          data: d.data,
          backgroundColor: d.color,
          borderColor: d.color,
          borderWidth: bar ? 0 : 2,
          pointRadius: bar ? 0 : 2,
          spanGaps: true,
        })),
      },
      options: {
        // Drawn at once: a page is read, not watched.
        animation: false,
        maintainAspectRatio: false,
        responsive: true,
        scales: {
          x: { stacked: Boolean(spec.stacked), ticks: { maxRotation: 0, autoSkip: true } },
          y: { stacked: Boolean(spec.stacked), beginAtZero: true, title: { display: Boolean(spec.unit), text: spec.unit || '' } },
        },
        plugins: { legend: { display: spec.datasets.length > 1 } },
      },
    });
  }
})();
