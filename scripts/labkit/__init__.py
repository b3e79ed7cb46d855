"""labkit: the course lab's own Python: the in-container entrypoint and GPU gate, and the
pure decision functions (environment checks, gfx override rules, diagnosis) that the host
tools share. Standard library only, so it runs in any image and on any student's host."""
