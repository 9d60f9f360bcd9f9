// Command crondiff answers, for JSON lines {schedule, timeZone, after, count} on stdin, what
// robfig/cron v3.0.1 says as Kubernetes uses it: whether cron.ParseStandard accepts the bare
// schedule (CronJob validation), whether time.LoadLocation accepts the zone, and the next
// `count` times of the schedule parsed as "TZ=<zone> <schedule>" (the CronJob controller).
// It exists only to be compared with generator/schedule/cron.py by tests/unit/test_cron_differential.py.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"time"
	_ "time/tzdata" // kube-apiserver and kube-controller-manager embed tzdata too

	"github.com/robfig/cron/v3"
)

type request struct {
	Schedule string  `json:"schedule"`
	TimeZone *string `json:"timeZone"`
	After    string  `json:"after"`
	Count    int     `json:"count"`
}

type response struct {
	ParseError *string  `json:"parseError"`
	ZoneError  *string  `json:"zoneError"`
	Times      []string `json:"times"`
	Error      *string  `json:"error"`
}

func errText(err error) *string {
	if err == nil {
		return nil
	}
	text := err.Error()
	return &text
}

// parse calls ParseStandard, turning a panic (robfig slices badly on "TZ=x" without a space)
// into an error.
func parse(spec string) (sched cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return cron.ParseStandard(spec)
}

func answer(req request) response {
	resp := response{Times: []string{}}
	_, err := parse(req.Schedule)
	resp.ParseError = errText(err)
	spec := req.Schedule
	if req.TimeZone != nil {
		_, zerr := time.LoadLocation(*req.TimeZone)
		resp.ZoneError = errText(zerr)
		if zerr != nil {
			return resp
		}
		spec = fmt.Sprintf("TZ=%s %s", *req.TimeZone, req.Schedule)
	}
	if err != nil || req.Count == 0 {
		return resp
	}
	sched, err := parse(spec)
	if err != nil {
		resp.Error = errText(err)
		return resp
	}
	t, err := time.Parse(time.RFC3339Nano, req.After)
	if err != nil {
		resp.Error = errText(err)
		return resp
	}
	for i := 0; i < req.Count; i++ {
		t = sched.Next(t)
		if t.IsZero() {
			break
		}
		resp.Times = append(resp.Times, t.UTC().Format(time.RFC3339))
	}
	return resp
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for in.Scan() {
		var req request
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			fmt.Fprintln(os.Stderr, "bad request:", err)
			os.Exit(2)
		}
		done := make(chan response, 1)
		go func() { done <- answer(req) }()
		select {
		case resp := <-done:
			_ = enc.Encode(resp)
		case <-time.After(10 * time.Second):
			text := "timeout: Next did not return"
			_ = enc.Encode(response{Times: []string{}, Error: &text})
		}
	}
}
