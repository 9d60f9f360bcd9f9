// Command a2ago serves test agents with a2a-go v2 (the A2A library kagent's controller uses),
// fronted the way kagent's controller fronts its agents: one JSON-RPC endpoint per agent at
// /api/a2a/{namespace}/{name}/, HTTP 400 for a JSON-RPC request without `A2A-Version: 1.0`,
// the caller's user taken from `X-User-Id` (tasks are stored and listed per user, so ListTasks
// without a user fails with "unauthenticated", as in kagent), and with -token set every request
// without `Authorization: Bearer <token>` refused with 401.
//
// The behaviour of an agent is the first dash-separated word of its name (as in
// devcluster/agents.py): echo, slow-<ms>, fail, input, hang, message, big (a 1 MiB answer).
// A name containing -nostream advertises no streaming.
//
// GET /debug/log answers what the tests count: every message received (with the user and
// whether a bearer token came along), every HTTP request, and when each task ended.
// The first line on stdout is "listening on 127.0.0.1:<port>".
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"iter"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/a2aproject/a2a-go/v2/a2a"
	"github.com/a2aproject/a2a-go/v2/a2asrv"
	"github.com/a2aproject/a2a-go/v2/a2asrv/taskstore"
)

type received struct {
	Path      string  `json:"path"`
	Agent     string  `json:"agent"`
	MessageID string  `json:"message_id"`
	ContextID string  `json:"context_id"`
	Text      string  `json:"text"`
	User      string  `json:"user"`
	At        float64 `json:"at"`
}

type request struct {
	Path          string  `json:"path"`
	Method        string  `json:"method"`
	Version       string  `json:"a2a_version"`
	User          string  `json:"user"`
	Authorization string  `json:"authorization"`
	At            float64 `json:"at"`
}

type recorder struct {
	mu       sync.Mutex
	Received []received         `json:"received"`
	Requests []request          `json:"requests"`
	Finished map[string]float64 `json:"finished"`
}

func now() float64 { return float64(time.Now().UnixNano()) / 1e9 }

func (r *recorder) finish(id a2a.TaskID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Finished[string(id)] = now()
}

type executor struct {
	path, name string
	rec        *recorder
}

func behaviour(name string) string { return strings.SplitN(name, "-", 2)[0] }

func slowFor(name string) time.Duration {
	parts := strings.Split(name, "-")
	if len(parts) > 1 {
		if ms, err := strconv.Atoi(parts[1]); err == nil {
			return time.Duration(ms) * time.Millisecond
		}
	}
	return time.Second
}

func textOf(m *a2a.Message) string {
	if m == nil {
		return ""
	}
	var texts []string
	for _, p := range m.Parts {
		if t := p.Text(); t != "" {
			texts = append(texts, t)
		}
	}
	return strings.Join(texts, "\n")
}

func agentMessage(ec *a2asrv.ExecutorContext, text string) *a2a.Message {
	return a2a.NewMessageForTask(a2a.MessageRoleAgent, ec, a2a.NewTextPart(text))
}

func (e *executor) Execute(ctx context.Context, ec *a2asrv.ExecutorContext) iter.Seq2[a2a.Event, error] {
	return func(yield func(a2a.Event, error) bool) {
		user := ""
		if ec.User != nil {
			user = ec.User.Name
		}
		e.rec.mu.Lock()
		e.rec.Received = append(e.rec.Received, received{
			Path: e.path, Agent: e.name, MessageID: ec.Message.ID, ContextID: ec.ContextID,
			Text: textOf(ec.Message), User: user, At: now(),
		})
		e.rec.mu.Unlock()
		kind := behaviour(e.name)
		if kind == "message" {
			yield(a2a.NewMessage(a2a.MessageRoleAgent, a2a.NewTextPart("hello from a message")), nil)
			return
		}
		if ec.StoredTask == nil {
			if !yield(a2a.NewSubmittedTask(ec, ec.Message), nil) {
				return
			}
		}
		if !yield(a2a.NewStatusUpdateEvent(ec, a2a.TaskStateWorking, nil), nil) {
			return
		}
		answer := kind + " done"
		switch kind {
		case "echo":
			answer = "echo: " + textOf(ec.Message)
		case "big":
			answer = strings.Repeat("x", 1<<20)
		case "slow":
			select {
			case <-time.After(slowFor(e.name)):
			case <-ctx.Done():
				return
			}
		case "hang":
			<-ctx.Done()
			return
		case "fail":
			e.rec.finish(ec.TaskID)
			yield(a2a.NewStatusUpdateEvent(ec, a2a.TaskStateFailed, agentMessage(ec, "agent failed: tool exploded")), nil)
			return
		case "input":
			yield(a2a.NewStatusUpdateEvent(ec, a2a.TaskStateInputRequired, agentMessage(ec, "need approval from a person")), nil)
			return
		}
		if !yield(a2a.NewArtifactEvent(ec, a2a.NewTextPart(answer)), nil) {
			return
		}
		e.rec.finish(ec.TaskID)
		yield(a2a.NewStatusUpdateEvent(ec, a2a.TaskStateCompleted, nil), nil)
	}
}

func (e *executor) Cancel(ctx context.Context, ec *a2asrv.ExecutorContext) iter.Seq2[a2a.Event, error] {
	return func(yield func(a2a.Event, error) bool) {
		e.rec.finish(ec.TaskID)
		yield(a2a.NewStatusUpdateEvent(ec, a2a.TaskStateCanceled, agentMessage(ec, "cancelled on request")), nil)
	}
}

// userFromHeader is the caller's identity as kagent's controller takes it: the X-User-Id header.
type userFromHeader struct{ a2asrv.PassthroughCallInterceptor }

func (userFromHeader) Before(ctx context.Context, cc *a2asrv.CallContext, req *a2asrv.Request) (context.Context, any, error) {
	if values, ok := cc.ServiceParams().Get("X-User-Id"); ok && len(values) > 0 && values[0] != "" {
		cc.User = a2asrv.NewAuthenticatedUser(values[0], nil)
	}
	return ctx, nil, nil
}

type server struct {
	base   string
	token  string
	rec    *recorder
	mu     sync.Mutex
	agents map[string]http.Handler
}

func (s *server) agent(path, name string) http.Handler {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.agents[path]; ok {
		return h
	}
	store := taskstore.NewInMemory(&taskstore.InMemoryStoreConfig{Authenticator: a2asrv.NewTaskStoreAuthenticator()})
	handler := a2asrv.NewHandler(
		&executor{path: path, name: name, rec: s.rec},
		a2asrv.WithTaskStore(store),
		a2asrv.WithCallInterceptors(userFromHeader{}),
	)
	card := &a2a.AgentCard{
		Name:        name,
		Description: "a2a-go v2 test agent behaving as " + behaviour(name),
		Version:     "1.0.0",
		SupportedInterfaces: []*a2a.AgentInterface{
			a2a.NewAgentInterface(s.base+path, a2a.TransportProtocolJSONRPC),
		},
		DefaultInputModes:  []string{"text/plain"},
		DefaultOutputModes: []string{"text/plain"},
		Capabilities:       a2a.AgentCapabilities{Streaming: !strings.Contains(name, "-nostream")},
		Skills:             []a2a.AgentSkill{{ID: "act", Name: "act", Description: "acts", Tags: []string{"test"}}},
	}
	rpc := a2asrv.NewJSONRPCHandler(handler)
	cardHandler := a2asrv.NewStaticAgentCardHandler(card)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/.well-known/agent-card.json") {
			cardHandler.ServeHTTP(w, r)
			return
		}
		if r.Header.Get("A2A-Version") != "1.0" {
			http.Error(w, "unsupported A2A version: send A2A-Version: 1.0", http.StatusBadRequest)
			return
		}
		rpc.ServeHTTP(w, r)
	})
	s.agents[path] = h
	return h
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/debug/log" {
		s.rec.mu.Lock()
		defer s.rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.rec)
		return
	}
	s.rec.mu.Lock()
	s.rec.Requests = append(s.rec.Requests, request{
		Path: r.URL.Path, Method: r.Method, Version: r.Header.Get("A2A-Version"),
		User: r.Header.Get("X-User-Id"), Authorization: r.Header.Get("Authorization"), At: now(),
	})
	s.rec.mu.Unlock()
	if s.token != "" && r.Header.Get("Authorization") != "Bearer "+s.token {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	// /api/a2a/{namespace}/{name}/[.well-known/agent-card.json]
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) < 4 || parts[0] != "api" || parts[1] != "a2a" || parts[2] == "" || parts[3] == "" {
		http.NotFound(w, r)
		return
	}
	path := fmt.Sprintf("/api/a2a/%s/%s/", parts[2], parts[3])
	s.agent(path, parts[3]).ServeHTTP(w, r)
}

func main() {
	port := flag.Int("port", 0, "port to listen on (0: a free one)")
	token := flag.String("token", "", "bearer token every request must carry (empty: none)")
	flag.Parse()
	listener, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		log.Fatal(err)
	}
	addr := listener.Addr().String()
	s := &server{
		base: "http://" + addr, token: *token, agents: map[string]http.Handler{},
		rec: &recorder{Finished: map[string]float64{}, Received: []received{}, Requests: []request{}},
	}
	fmt.Printf("listening on %s\n", addr)
	log.Fatal(http.Serve(listener, s))
}
