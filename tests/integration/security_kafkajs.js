// security_kafkajs.js: kafkajs 2.2.4 over SSL or SASL_SSL (PLAIN) against
// weir, for tests/integration/test_security_*.  Uses the locked kafkajs in
// tests/integration/kafkajs/node_modules (NODE_PATH set by the caller).
//
//   node security_kafkajs.js '<json>'
//
// json: {brokers: [...], ca: PATH, sasl: {username, password} | null,
//        mode: "roundtrip" | "signon" | "reauth",
//        topic, count, groupId, pauseMs}
// Prints one JSON line: {ok: true, produced, consumed, ...} or
// {ok: false, error: NAME, message: TEXT}.
'use strict'

const fs = require('fs')
const { Kafka, logLevel } = require('kafkajs')

const cfg = JSON.parse(process.argv[2])

function client () {
  const opts = {
    clientId: 'weir-it-sec-kafkajs',
    brokers: cfg.brokers,
    ssl: cfg.ca ? { ca: [fs.readFileSync(cfg.ca, 'utf-8')], servername: 'localhost' } : false,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 10000,
    requestTimeout: 30000,
    retry: { retries: cfg.retries === undefined ? 3 : cfg.retries }
  }
  if (cfg.sasl) {
    opts.sasl = { mechanism: 'plain', username: cfg.sasl.username, password: cfg.sasl.password }
  }
  return new Kafka(opts)
}

function value (i) {
  return `kafkajs-sec-${i}-` + 'x'.repeat(i % 300)
}

async function produce (kafka, from, count) {
  const producer = kafka.producer({ allowAutoTopicCreation: true })
  await producer.connect()
  const msgs = []
  for (let i = from; i < from + count; i++) msgs.push({ key: `k${i}`, value: value(i) })
  for (let i = 0; i < msgs.length; i += 500) {
    await producer.send({ topic: cfg.topic, acks: -1, messages: msgs.slice(i, i + 500) })
  }
  await producer.disconnect()
}

async function consume (kafka, count) {
  const consumer = kafka.consumer({ groupId: cfg.groupId, sessionTimeout: 10000, heartbeatInterval: 1000 })
  await consumer.connect()
  await consumer.subscribe({ topic: cfg.topic, fromBeginning: true })
  const seen = new Map()
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`consumed ${seen.size} of ${count} in time`)), 60000)
    consumer.run({
      eachMessage: async ({ message }) => {
        seen.set(message.key.toString(), message.value.toString())
        if (seen.size >= count) { clearTimeout(timer); resolve() }
      }
    }).catch(reject)
  })
  await consumer.disconnect()
  for (let i = 0; i < count; i++) {
    if (seen.get(`k${i}`) !== value(i)) throw new Error(`record k${i} missing or wrong`)
  }
  return seen.size
}

async function main () {
  const kafka = client()
  if (cfg.mode === 'signon') {
    const admin = kafka.admin()
    await admin.connect()
    const topics = await admin.listTopics()
    await admin.disconnect()
    return { ok: true, topics: topics.length }
  }
  if (cfg.mode === 'reauth') {
    // One producer connection used across several session lifetimes:
    // kafkajs re-authenticates when SessionLifetimeMs says so.
    const producer = kafka.producer({ allowAutoTopicCreation: true })
    await producer.connect()
    let sent = 0
    for (let round = 0; round < cfg.rounds; round++) {
      await producer.send({ topic: cfg.topic, acks: -1, messages: [{ key: `k${sent}`, value: value(sent) }] })
      sent++
      await new Promise(resolve => setTimeout(resolve, cfg.pauseMs))
    }
    await producer.disconnect()
    return { ok: true, produced: sent }
  }
  await produce(kafka, 0, cfg.count)
  const consumed = await consume(kafka, cfg.count)
  return { ok: true, produced: cfg.count, consumed }
}

main().then(r => {
  console.log(JSON.stringify(r))
  process.exit(0)
}, e => {
  console.log(JSON.stringify({ ok: false, error: e.name, message: String(e.message) }))
  process.exit(0)
})
