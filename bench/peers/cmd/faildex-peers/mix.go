package main

import (
	"context"
	"fmt"
	"io"

	"github.com/faildex/faildex/bench"
)

// mixClients is the number of concurrent clients of the throughput mix
// (--clients); servers are started with room for them.
var mixClients = bench.DefaultMixClients

// A clientSet is what a peer gives the throughput mix: one way to answer
// per client (each its own connection or process), the CPU meter of what
// answers and, when the clients run elsewhere, of the clients.
type clientSet struct {
	run       []func(ctx context.Context, c bench.Class, w io.Writer) (uint64, map[string]uint64, error)
	cpu       func() (float64, error)
	clientCPU func() (float64, error) // nil: the clients share the answering process
	close     func() error
	note      string
}

// concurrent peers serve the throughput mix.
type concurrent interface {
	Clients(ctx context.Context, n int) (*clientSet, error)
}

func selfCPU() (float64, error) { return bench.CPUSeconds(), nil }

// runMix runs the throughput mix (bench.RunMix) on a peer with n clients
// for the classes of bench.MixClasses that it answers.
func runMix(ctx context.Context, p peer, opt bench.MixOptions) (bench.Throughput, error) {
	cc, ok := p.(concurrent)
	if !ok {
		return bench.Throughput{}, fmt.Errorf("%s: no concurrent clients", p.Name())
	}
	var classes []bench.Class
	for _, c := range bench.MixClasses() {
		if supports(p, c) {
			classes = append(classes, c)
		}
	}
	cs, err := cc.Clients(ctx, opt.Clients)
	if err != nil {
		return bench.Throughput{}, fmt.Errorf("%s: starting %d clients: %w", p.Name(), opt.Clients, err)
	}
	opt.Engine, opt.Classes, opt.Approx = p.Name(), classes, p.Approx
	opt.CPU, opt.ClientCPU = cs.cpu, cs.clientCPU
	opt.Do = func(ctx context.Context, i int, c bench.Class) error {
		_, _, err := cs.run[i](ctx, c, io.Discard)
		return err
	}
	tp, err := bench.RunMix(ctx, opt)
	if cerr := cs.close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return tp, fmt.Errorf("%s: mix: %w", p.Name(), err)
	}
	tp.Note = cs.note
	return tp, nil
}
