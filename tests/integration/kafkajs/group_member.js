'use strict'
/*
 * One kafkajs 2.2.4 consumer group member for tests/integration/test_groups_kafkajs.
 *
 * usage: node group_member.js BOOTSTRAP GROUP TOPIC LOG SESSION_MS DELAY_MS
 * Subscribes to TOPIC (from the beginning when the group has no offsets) and
 * appends to LOG, synchronously, the member log lines of
 * tests/integration/grouptest.py: "A" with its assignment after each join,
 * "R" for each record processed (DELAY_MS after it is received, so that a
 * test can stop the member mid-stream) and "C" for each acknowledged commit
 * (kafkajs commits the processed records after each batch).  SIGTERM: a
 * clean disconnect (LeaveGroup), exit status 0.
 */
const fs = require('fs')
const { Kafka, logLevel } = require('kafkajs')

const [bootstrap, groupId, topic, logPath, sessionArg, delayArg] = process.argv.slice(2)
const sessionTimeout = parseInt(sessionArg, 10)
const delay = parseInt(delayArg, 10)
const log = fs.openSync(logPath, 'a')
const hex = (b) => (b === null || b === undefined ? '-' : Buffer.from(b).toString('hex'))
const stamp = () => (Date.now() / 1000).toFixed(6)
const line = (kind, text) => fs.writeSync(log, `${kind} ${stamp()} ${text}\n`)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function main () {
  const kafka = new Kafka({
    clientId: 'it-kafkajs-member',
    brokers: [bootstrap],
    logLevel: logLevel.WARN,
    retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 2000 }
  })
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout,
    rebalanceTimeout: sessionTimeout,
    heartbeatInterval: 300,
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: 16384
  })
  const { GROUP_JOIN, COMMIT_OFFSETS, CRASH } = consumer.events
  consumer.on(GROUP_JOIN, ({ payload }) => {
    const parts = []
    for (const [t, ps] of Object.entries(payload.memberAssignment || {})) {
      for (const p of ps) parts.push(`${t}:${p}`)
    }
    line('A', parts.length ? parts.sort().join(',') : '-')
  })
  consumer.on(COMMIT_OFFSETS, ({ payload }) => {
    for (const t of payload.topics) {
      for (const p of t.partitions) line('C', `${t.topic} ${p.partition} ${p.offset}`)
    }
  })
  consumer.on(CRASH, ({ payload }) => {
    console.error(`kafkajs consumer crashed: ${payload.error && payload.error.stack}`)
  })
  let stopping = false
  process.on('SIGTERM', async () => {
    if (stopping) return
    stopping = true
    try {
      await consumer.disconnect()
      fs.closeSync(log)
      process.exit(0)
    } catch (e) {
      console.error('disconnect failed:', e && e.stack ? e.stack : e)
      process.exit(1)
    }
  })
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      if (delay > 0) await sleep(delay)
      line('R', `${topic} ${partition} ${message.offset} ${hex(message.key)} ${hex(message.value)}`)
    }
  })
}

main().catch((e) => {
  console.error('FAIL:', e && e.stack ? e.stack : e)
  process.exit(1)
})
