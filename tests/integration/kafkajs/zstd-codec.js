'use strict'
/*
 * ZSTD codec for kafkajs built on @bokuweb/zstd-wasm (zstd compiled to
 * WebAssembly, no native build).  kafkajs' own @kafkajs/zstd depends on
 * cppzst, whose native addon does not compile against Node 20's headers.
 * The codec interface is kafkajs': compress(encoder) and decompress(buffer).
 */
const zstd = require('@bokuweb/zstd-wasm')

let ready = null

module.exports = (level = 3) => () => ({
  async compress (encoder) {
    if (!ready) ready = zstd.init()
    await ready
    return Buffer.from(zstd.compress(encoder.buffer, level))
  },
  async decompress (buffer) {
    if (!ready) ready = zstd.init()
    await ready
    return Buffer.from(zstd.decompress(buffer))
  }
})
