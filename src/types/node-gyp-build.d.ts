// node-gyp-build ships no types: it returns the addon found under root.
declare module 'node-gyp-build' {
  function nodeGypBuild(root: string): unknown;
  export = nodeGypBuild;
}
