/*
 * Stands in for MathJax, so that the site makes no request outside itself.
 *
 * mkdocs-jupyter adds a loader to every page that fetches MathJax from a CDN as soon as a
 * rendered notebook is on the page, unless `window.MathJax` can already typeset. Our notebooks
 * contain no math, so this no-op typesetter is all they need. A notebook that one day needs
 * math should vendor MathJax instead (npm `mathjax`) and drop this file from extra_javascript.
 */
window.MathJax = {
  startup: { promise: Promise.resolve() },
  typesetPromise: () => Promise.resolve(),
  typesetClear: () => {},
  texReset: () => {},
};
