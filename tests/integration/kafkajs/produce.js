'use strict'
/*
 * kafkajs 2.2.4 producer for tests/integration/test_kafkajs.
 *
 * usage: node produce.js BOOTSTRAP RECORDS_JSON RESULT_JSON PARTITIONS CODEC...
 * For each CODEC (none, gzip, snappy, lz4, zstd) it creates topic kj-<codec>
 * with the admin client, sends every record of RECORDS_JSON (keys, values and
 * header values base64, timestamps) in chunks with acks=-1, and writes to
 * RESULT_JSON, per codec, the per-send per-partition base offsets and the
 * admin's fetchTopicOffsets() afterwards.
 */
const fs = require('fs')
const { Kafka, CompressionTypes, CompressionCodecs, logLevel } = require('kafkajs')
const SnappyCodec = require('kafkajs-snappy')
const LZ4Codec = require('kafkajs-lz4')
const zstdCodec = require('./zstd-codec')

CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec
CompressionCodecs[CompressionTypes.LZ4] = new LZ4Codec().codec
CompressionCodecs[CompressionTypes.ZSTD] = zstdCodec()

const TYPES = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD
}
const CHUNK = 500

const b64 = (s) => (s === null ? null : Buffer.from(s, 'base64'))

async function main () {
  const [bootstrap, recordsPath, resultPath, partitionsArg, ...codecs] = process.argv.slice(2)
  const partitions = parseInt(partitionsArg, 10)
  const records = JSON.parse(fs.readFileSync(recordsPath, 'utf8'))
  const messages = records.map((r) => {
    const headers = {}
    for (const [k, v] of r.headers) headers[k] = b64(v)
    return { key: b64(r.key), value: b64(r.value), headers, timestamp: String(r.ts) }
  })

  const kafka = new Kafka({
    clientId: 'it-kafkajs',
    brokers: [bootstrap],
    logLevel: logLevel.WARN,
    retry: { retries: 3 }
  })
  const admin = kafka.admin()
  await admin.connect()
  const topics = codecs.map((c) => ({
    topic: `kj-${c}`,
    numPartitions: partitions,
    replicationFactor: 1
  }))
  const created = await admin.createTopics({ topics, waitForLeaders: true, timeout: 20000 })
  if (!created) throw new Error('createTopics returned false (topics already existed?)')
  const meta = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) })
  for (const t of meta.topics) {
    if (t.partitions.length !== partitions) {
      throw new Error(`${t.name}: ${t.partitions.length} partitions, expected ${partitions}`)
    }
  }
  console.log(`admin: created ${topics.length} topics with ${partitions} partitions`)

  const producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  const result = {}
  for (const codec of codecs) {
    if (!(codec in TYPES)) throw new Error(`unknown codec ${codec}`)
    const topic = `kj-${codec}`
    const sends = []
    const t0 = Date.now()
    for (let i = 0; i < messages.length; i += CHUNK) {
      const res = await producer.send({
        topic,
        acks: -1,
        compression: TYPES[codec],
        messages: messages.slice(i, i + CHUNK)
      })
      sends.push(res.map((r) => {
        if (r.errorCode !== 0) throw new Error(`${topic}[${r.partition}]: error ${r.errorCode}`)
        return { partition: r.partition, baseOffset: Number(r.baseOffset) }
      }))
    }
    const offsets = await admin.fetchTopicOffsets(topic)
    result[codec] = {
      topic,
      sends,
      offsets: offsets.map((o) => ({
        partition: o.partition,
        high: Number(o.high),
        low: Number(o.low)
      }))
    }
    const ms = Date.now() - t0
    console.log(`produced ${messages.length} records to ${topic} codec=${codec} in ${ms} ms`)
  }
  fs.writeFileSync(resultPath, JSON.stringify(result))
  await producer.disconnect()
  await admin.disconnect()
}

main().catch((e) => {
  console.error('FAIL:', e && e.stack ? e.stack : e)
  process.exit(1)
})
