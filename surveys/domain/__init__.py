"""The product's rules as pure code: check-in states, waves, course levels and a course's life."""
