/**
 * Hands text the API returned to the browser as a file. The console fetches downloads through
 * its API client (so a refusal shows as the server's message, not as a saved error page) and
 * then saves them from memory.
 */
export function saveTextFile(fileName: string, text: string, type = 'application/x-pem-file') {
  saveBlob(fileName, new Blob([text], { type }));
}

/** Hands a binary answer (a zip) to the browser as a file, from memory like saveTextFile. */
export function saveBlob(fileName: string, blob: Blob) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  // The click has started the download; the object URL may go once the event loop turns.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
