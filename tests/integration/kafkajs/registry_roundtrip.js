'use strict'
/*
 * @kafkajs/confluent-schema-registry 4.1.0 with kafkajs 2.2.4 against Weir,
 * for tests/integration/test_registry_kafkajs.
 *
 * usage: node registry_roundtrip.js BOOTSTRAP REGISTRY_URL AVRO_TOPIC JSON_TOPIC N RESULT_JSON
 *
 * Registry (TopicNameStrategy subjects AVRO_TOPIC-value, JSON_TOPIC-value):
 *   - register(v1): the client first GETs /config/{subject} and only goes on
 *     when the answer is 404 (Confluent's 40408, no subject-level config),
 *     then registers and PUTs the subject's compatibility (BACKWARD);
 *   - register(v1) again: the subject config is now BACKWARD, as the client
 *     demands, and the same id comes back;
 *   - register(v2), v1 plus a field with a default: a new id;
 *   - an incompatible schema (a field's type changed) is refused with 409;
 *   - register() asking for FULL while the subject says BACKWARD is refused
 *     by the client itself (ConfluentSchemaRegistryCompatibilityError);
 *   - a JSON schema under JSON_TOPIC-value.
 * Kafka: N Avro records (alternately encoded with v1 and v2) and N JSON
 * records are encoded (magic byte 0 + id + payload) and produced with
 * kafkajs; a kafkajs group consumer reads both topics back and decodes
 * every record through the registry (fetching the schemas by id with a
 * fresh client, so nothing comes from the producer side's cache), also with
 * v2 as reader schema for the v1 records; every decoded value must equal
 * what was sent.  Then a record framed with an id no subject has is
 * produced: Weir must refuse it (INVALID_RECORD) when AVRO_TOPIC validates.
 *
 * RESULT_JSON: {ids: {v1, v2, json}, sent, consumed, decodedEqual,
 * readerSchemaEqual, incompatible, clientCompatibilityError, rejected}.
 */
const fs = require('fs')
const { Kafka, logLevel } = require('kafkajs')
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry')

const V1 = {
  type: 'record',
  name: 'Reading',
  namespace: 'edu.campus.sensors',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'sensor', type: 'string' },
    { name: 'value', type: 'double' },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['OK', 'WARN', 'FAIL'] } },
    { name: 'note', type: ['null', 'string'], default: null }
  ]
}
const V2 = { ...V1, fields: [...V1.fields, { name: 'unit', type: 'string', default: 'C' }] }
const BAD = {
  ...V1,
  fields: V1.fields.map((f) => (f.name === 'id' ? { name: 'id', type: 'boolean' } : f))
}
const JSON_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  properties: { id: { type: 'integer' }, room: { type: 'string' }, open: { type: 'boolean' } },
  required: ['id', 'room']
}

function avroRecord (i, v2) {
  const r = {
    id: i,
    sensor: `sensor-${i % 7}-${'é'.repeat(i % 3)}`,
    value: i * 0.25 - 3,
    tags: Array.from({ length: i % 4 }, (_, k) => `t${k}`),
    status: ['OK', 'WARN', 'FAIL'][i % 3],
    note: i % 5 === 0 ? null : `note ${i}`
  }
  if (v2) r.unit = i % 2 ? 'K' : 'F'
  return r
}

const jsonRecord = (i) => ({ id: i, room: `R${100 + i}`, open: i % 2 === 0 })

async function expectError (fn, pred) {
  try {
    await fn()
  } catch (e) {
    if (pred(e)) return e
    throw new Error(`unexpected error: ${e && e.stack ? e.stack : e}`)
  }
  throw new Error('no error')
}

async function main () {
  const [bootstrap, url, avroTopic, jsonTopic, nStr, resultPath] = process.argv.slice(2)
  const n = parseInt(nStr, 10)
  const subject = `${avroTopic}-value`
  const jsubject = `${jsonTopic}-value`
  const result = {}

  /* registry */
  const reg = new SchemaRegistry({ host: url, retry: { retries: 0 } })
  const schema = (s) => ({ type: SchemaType.AVRO, schema: JSON.stringify(s) })
  const { id: v1 } = await reg.register(schema(V1), { subject })
  const { id: again } = await reg.register(schema(V1), { subject })
  if (again !== v1) throw new Error(`v1 registered again as ${again}, first ${v1}`)
  const { id: v2 } = await reg.register(schema(V2), { subject })
  if (v2 === v1) throw new Error('v2 got the id of v1')
  const inc = await expectError(() => reg.register(schema(BAD), { subject }),
    (e) => e.status === 409)
  result.incompatible = { status: inc.status, message: inc.message }
  const cmp = await expectError(
    () => reg.register(schema(V2), { subject, compatibility: 'FULL' }),
    (e) => e.name === 'ConfluentSchemaRegistryCompatibilityError')
  result.clientCompatibilityError = cmp.message
  const { id: jid } = await reg.register(
    { type: SchemaType.JSON, schema: JSON.stringify(JSON_SCHEMA) }, { subject: jsubject })
  result.ids = { v1, v2, json: jid }
  const latest = await reg.getLatestSchemaId(subject)
  if (latest !== v2) throw new Error(`latest id of ${subject} is ${latest}, want ${v2}`)

  /* encode + produce */
  const kafka = new Kafka({
    clientId: 'it-registry-kafkajs',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 3 }
  })
  const producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  const sent = { avro: [], json: [] }
  const amsgs = []
  const jmsgs = []
  for (let i = 0; i < n; i++) {
    const useV2 = i % 2 === 1
    const a = avroRecord(i, useV2)
    sent.avro.push({ id: useV2 ? v2 : v1, value: a })
    amsgs.push({ key: `k${i}`, value: await reg.encode(useV2 ? v2 : v1, a) })
    const j = jsonRecord(i)
    sent.json.push(j)
    jmsgs.push({ key: `k${i}`, value: await reg.encode(jid, j) })
  }
  await expectError(() => reg.encode(v1, { ...avroRecord(1, false), id: 'nope' }),
    (e) => e.name === 'ConfluentSchemaRegistryValidationError')
  for (let i = 0; i < n; i += 50) {
    await producer.send({ topic: avroTopic, acks: -1, messages: amsgs.slice(i, i + 50) })
    await producer.send({ topic: jsonTopic, acks: -1, messages: jmsgs.slice(i, i + 50) })
  }
  result.sent = { avro: n, json: n }

  /* consume + decode, with a registry client that has cached nothing */
  const reader = new SchemaRegistry({ host: url, retry: { retries: 0 } })
  const consumer = kafka.consumer({
    groupId: 'it-registry-kafkajs',
    sessionTimeout: 10000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 100
  })
  const got = { [avroTopic]: new Map(), [jsonTopic]: new Map() }
  let finish
  const done = new Promise((resolve) => { finish = resolve })
  let failure = null
  await consumer.connect()
  await consumer.subscribe({ topics: [avroTopic, jsonTopic], fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      try {
        const idx = parseInt(message.key.toString().slice(1), 10)
        const id = message.value.readInt32BE(1)
        const value = await reader.decode(message.value)
        let asV2 = null
        if (topic === avroTopic) {
          asV2 = await reader.decode(message.value,
            { [SchemaType.AVRO]: { readerSchema: V2 } })
        }
        got[topic].set(idx, { id, value, asV2, offset: Number(message.offset) })
        if (got[avroTopic].size >= n && got[jsonTopic].size >= n) finish()
      } catch (e) {
        failure = e
        finish()
      }
    }
  })
  const timer = setTimeout(() => finish(), 60000)
  await done
  clearTimeout(timer)
  await consumer.disconnect()
  if (failure) throw failure
  result.consumed = { avro: got[avroTopic].size, json: got[jsonTopic].size }

  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b)
  let decodedEqual = true
  let readerSchemaEqual = true
  const mismatches = []
  for (let i = 0; i < n; i++) {
    const a = got[avroTopic].get(i)
    const j = got[jsonTopic].get(i)
    const want = sent.avro[i]
    if (!a || a.id !== want.id || !same({ ...a.value }, want.value) ||
        !j || j.id !== jid || !same(j.value, sent.json[i])) {
      decodedEqual = false
      if (mismatches.length < 5) mismatches.push({ i, a, j, want })
    }
    const wantV2 = { ...want.value }
    if (wantV2.unit === undefined) wantV2.unit = 'C' /* the default, read with v2 */
    if (!a || !same({ ...a.asV2 }, wantV2)) {
      readerSchemaEqual = false
      if (mismatches.length < 5) mismatches.push({ i, asV2: a && a.asV2, wantV2 })
    }
  }
  result.decodedEqual = decodedEqual
  result.readerSchemaEqual = readerSchemaEqual
  result.mismatches = mismatches

  /* an id that no subject has, on the validated topic */
  const bogus = Buffer.concat([Buffer.from([0]), Buffer.alloc(4), Buffer.from([2, 2, 0x61])])
  bogus.writeInt32BE(v2 + 1000, 1)
  try {
    await producer.send({ topic: avroTopic, acks: -1, messages: [{ key: 'bogus', value: bogus }] })
    result.rejected = null
  } catch (e) {
    const chain = []
    for (let x = e; x && chain.length < 5; x = x.originalError || x.cause) {
      chain.push({ name: x.name, type: x.type || null, message: x.message })
    }
    result.rejected = chain
  }
  await producer.disconnect()
  fs.writeFileSync(resultPath, JSON.stringify(result))
  console.log(`registry ids ${v1}/${v2}/${jid}; produced ${n}+${n}, consumed ` +
    `${result.consumed.avro}+${result.consumed.json}, decoded equal: ${decodedEqual}`)
}

main().catch((e) => {
  console.error('FAIL:', e && e.stack ? e.stack : e)
  process.exit(1)
})
