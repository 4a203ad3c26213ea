/** Compiled data files (build/*.bin) bundled as wrangler "Data" modules: an ArrayBuffer. */
declare module "*.bin" {
  const data: ArrayBuffer;
  export default data;
}
