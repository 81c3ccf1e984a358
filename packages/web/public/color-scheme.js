// Sets Mantine's colour-scheme attribute before React starts, so a dark console does not flash
// white. Reads the same localStorage key as Mantine's localStorageColorSchemeManager.
(function () {
  var saved = null;
  try {
    saved = window.localStorage.getItem('mantine-color-scheme-value');
  } catch {
    // Storage blocked (private mode, policy): fall back to the system preference.
  }
  var scheme =
    saved === 'light' || saved === 'dark'
      ? saved
      : window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches
        ? 'dark'
        : 'light';
  document.documentElement.setAttribute('data-mantine-color-scheme', scheme);
})();
