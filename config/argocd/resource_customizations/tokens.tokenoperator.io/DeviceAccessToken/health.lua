-- Argo CD health of a DeviceAccessToken, from the status the operator writes:
-- kstatus conditions (Ready, Reconciling, Stalled) and observedGeneration. The
-- states and their reasons are in docs/argocd.md. Only the base and table
-- libraries are used: Argo CD opens no others for the scripts of argocd-cm.

-- Ready=False reasons that wait for something to come by itself, not failures.
local waiting = {
  IssuerNotFound = true,
  IssuerNotReady = true,
  IssuerBusy = true,
  CredentialsNotFound = true,
}

local function condition(conditionType)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

local generation = tonumber(obj.metadata.generation)

-- current tells whether a condition speaks of the current spec.
local function current(c)
  local stamped = tonumber(c.observedGeneration)
  return stamped == nil or generation == nil or stamped >= generation
end

local function currentTrue(c)
  return c ~= nil and c.status == "True" and current(c)
end

local hs = {}
-- Stalled: the operator stopped until the user acts.
local stalled = condition("Stalled")
if currentTrue(stalled) then
  hs.status = "Degraded"
  hs.message = stalled.message
  return hs
end
-- Reconciling: a pair is being issued, or the operator waits or retries.
local reconciling = condition("Reconciling")
local ready = condition("Ready")
if currentTrue(reconciling) then
  if ready ~= nil and ready.status == "False" and current(ready) and not waiting[ready.reason] then
    hs.status = "Degraded"
    hs.message = ready.message
    return hs
  end
  hs.status = "Progressing"
  hs.message = reconciling.message
  return hs
end
local observed = nil
if obj.status ~= nil then
  observed = tonumber(obj.status.observedGeneration)
end
if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  hs.message = "the operator has not reconciled generation " .. generation .. " yet"
  return hs
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message
  return hs
end
hs.status = "Progressing"
hs.message = "waiting for the operator to report Ready"
return hs
