-- Argo CD health check for kagent.dev/ScheduledRun (resource.customizations.health.kagent.dev_ScheduledRun).
--
-- Healthy:     Accepted, and the newest ended run did not fail (or none ended yet).
-- Degraded:    not Accepted (the message says what to fix), or the FAILED_RUNS newest ended runs
--              all failed (Failed, Timeout, DispatchFailed).
-- Suspended:   spec.suspend, paused after failures (condition Paused) or stopped for good
--              (condition Stopped: endTime or maxRuns reached).
-- Progressing: the operator has not judged this generation of the spec yet, or a brand-new
--              object's first run is still going.

-- How many newest ended runs must all have failed before the ScheduledRun counts as Degraded.
local FAILED_RUNS = 3

local FAILED = { Failed = true, Timeout = true, DispatchFailed = true }

local function condition(status, kind)
  for _, c in ipairs(status.conditions or {}) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

local function said(c, fallback)
  if c.message ~= nil and c.message ~= "" then
    return c.reason .. ": " .. c.message
  end
  return c.reason or fallback
end

local hs = {}
local status = obj.status
local generation = obj.metadata and obj.metadata.generation
local accepted = status and condition(status, "Accepted")

if accepted == nil or (generation ~= nil and status.observedGeneration ~= nil
    and status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to judge the spec"
  return hs
end

if accepted.status ~= "True" then
  hs.status = "Degraded"
  hs.message = said(accepted, "Not accepted")
  return hs
end

for _, kind in ipairs({ "Stopped", "Paused" }) do
  local c = condition(status, kind)
  if c ~= nil and c.status == "True" then
    hs.status = "Suspended"
    hs.message = said(c, kind)
    return hs
  end
end

if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "spec.suspend is true"
  return hs
end

-- Newest first; Pending entries are runs still going.
local ended = {}
local pending = 0
for _, entry in ipairs(status.runHistory or {}) do
  if entry.status == "Pending" then
    pending = pending + 1
  else
    table.insert(ended, entry)
  end
end

if #ended == 0 and pending > 0 then
  hs.status = "Progressing"
  hs.message = "The first run is in progress"
  return hs
end

if #ended >= FAILED_RUNS then
  local all_failed = true
  for i = 1, FAILED_RUNS do
    if not FAILED[ended[i].status] then
      all_failed = false
      break
    end
  end
  if all_failed then
    hs.status = "Degraded"
    local last = ended[1]
    hs.message = "The last " .. FAILED_RUNS .. " runs failed; newest " .. last.status
    if last.message ~= nil and last.message ~= "" then
      hs.message = hs.message .. ": " .. last.message
    end
    return hs
  end
end

hs.status = "Healthy"
if #ended > 0 then
  hs.message = "Last run " .. ended[1].status
else
  hs.message = "No run has ended yet"
end
-- Accepted with a note (ScheduleNeverFires: only manual runs happen) says so.
if accepted.reason ~= "Accepted" and accepted.reason ~= "ScheduleAccepted" then
  hs.message = hs.message .. "; " .. said(accepted, "")
end
return hs
