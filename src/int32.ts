// Reused Int32Arrays for what crosses to the native side each pass: they
// grow by doubling and are never shrunk, so a steady pass allocates nothing.

/** array itself when it holds `needed` items, else a copy twice as long (or more). */
export function grownInt32(array: Int32Array<ArrayBuffer>, needed: number): Int32Array<ArrayBuffer> {
  if (array.length >= needed) return array;
  let length = Math.max(array.length * 2, 16);
  while (length < needed) length *= 2;
  const grown = new Int32Array(length);
  grown.set(array);
  return grown;
}
