'use strict'
/*
 * kafkajs 2.2.4 consumer group for tests/integration/test_kafkajs.
 *
 * usage: node consume.js BOOTSTRAP GROUP OUT_NDJSON RESULT_JSON TOPIC=COUNT...
 * One group member subscribes to every TOPIC from the beginning and writes
 * each record to OUT_NDJSON (one JSON object a line: topic, partition,
 * offset, timestamp, key, value and header values base64) until it has seen
 * COUNT distinct records of each topic.  It then describes the group (state,
 * protocol, its assignment), disconnects (offsets are committed after each
 * batch) and writes RESULT_JSON: the description and the group's committed
 * offsets per topic (admin.fetchOffsets).
 */
const fs = require('fs')
const { Kafka, logLevel } = require('kafkajs')
const SnappyCodec = require('kafkajs-snappy')
const LZ4Codec = require('kafkajs-lz4')
const { CompressionTypes, CompressionCodecs } = require('kafkajs')
const zstdCodec = require('./zstd-codec')

CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec
CompressionCodecs[CompressionTypes.LZ4] = new LZ4Codec().codec
CompressionCodecs[CompressionTypes.ZSTD] = zstdCodec()

const b64 = (b) => (b === null || b === undefined ? null : Buffer.from(b).toString('base64'))

async function main () {
  const [bootstrap, groupId, outPath, resultPath, ...specs] = process.argv.slice(2)
  const want = {}
  for (const s of specs) {
    const [t, n] = s.split('=')
    want[t] = parseInt(n, 10)
  }
  const topics = Object.keys(want)
  const seen = {}
  for (const t of topics) seen[t] = new Set()
  const out = fs.openSync(outPath, 'w')

  const kafka = new Kafka({
    clientId: 'it-kafkajs-consume',
    brokers: [bootstrap],
    logLevel: logLevel.WARN,
    retry: { retries: 5 }
  })
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 10000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 100
  })
  let joined = null
  consumer.on(consumer.events.GROUP_JOIN, (e) => { joined = e.payload })
  await consumer.connect()
  await consumer.subscribe({ topics, fromBeginning: true })

  let finish
  const done = new Promise((resolve) => { finish = resolve })
  const t0 = Date.now()
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const headers = Object.entries(message.headers || {}).map(([k, v]) => [k, b64(v)])
      fs.writeSync(out, JSON.stringify({
        topic,
        partition,
        offset: Number(message.offset),
        ts: Number(message.timestamp),
        key: b64(message.key),
        value: b64(message.value),
        headers
      }) + '\n')
      seen[topic].add(`${partition}/${message.offset}`)
      if (topics.every((t) => seen[t].size >= want[t])) finish()
    }
  })
  await done
  const ms = Date.now() - t0
  const admin = kafka.admin()
  await admin.connect()
  const { groups } = await admin.describeGroups([groupId])
  await consumer.disconnect()
  fs.closeSync(out)
  const committed = {}
  for (const t of topics) {
    const res = await admin.fetchOffsets({ groupId, topics: [t] })
    committed[t] = {}
    for (const p of res[0].partitions) committed[t][p.partition] = Number(p.offset)
  }
  await admin.disconnect()
  const g = groups[0]
  fs.writeFileSync(resultPath, JSON.stringify({
    ms,
    joined,
    state: g.state,
    protocolType: g.protocolType,
    protocol: g.protocol,
    members: g.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId })),
    committed
  }))
  const n = topics.reduce((a, t) => a + seen[t].size, 0)
  console.log(`consumed ${n} records of ${topics.length} topics in ${ms} ms as group ${groupId}`)
}

main().catch((e) => {
  console.error('FAIL:', e && e.stack ? e.stack : e)
  process.exit(1)
})
