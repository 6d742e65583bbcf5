package main

import "github.com/spf13/cobra"

func newExplainCommand(s *streams) *cobra.Command {
	return &cobra.Command{Use: "explain", Hidden: true}
}
