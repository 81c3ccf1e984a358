/**
 * Hands text the API returned to the browser as a file. The console fetches downloads through
 * its API client (so a refusal shows as the server's message, not as a saved error page) and
 * then saves them from memory.
 */
export function saveTextFile(fileName: string, text: string, type = 'application/x-pem-file') {
  const url = URL.createObjectURL(new Blob([text], { type }));
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
