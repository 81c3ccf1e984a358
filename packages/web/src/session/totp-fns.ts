/** Helpers for showing a new authenticator to the user. */

/**
 * An <img> source for the server's QR code: a data: URL as given, or SVG markup wrapped into
 * one (an image cannot run script, unlike markup put into the page). Anything else: null.
 */
export function qrImageSource(qr: string): string | null {
  if (/^data:image\/(png|svg\+xml|gif|webp)[;,]/.test(qr)) return qr;
  if (/^\s*(<\?xml[^>]*>\s*)?<svg[\s>]/.test(qr)) {
    return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(qr)}`;
  }
  return null;
}

/** The secret in groups of four, easier to type into an app by hand. */
export function groupSecret(secret: string): string {
  return (
    secret
      .replace(/\s/g, '')
      .match(/.{1,4}/g)
      ?.join(' ') ?? ''
  );
}
