module github.com/sessionkit/sessionkit/bench

go 1.26

replace github.com/sessionkit/sessionkit => ../

require (
	github.com/alexedwards/scs/v2 v2.9.0
	github.com/sessionkit/sessionkit v0.0.0-00010101000000-000000000000
)

require (
	github.com/benbjohnson/clock v1.3.5 // indirect
	github.com/hashicorp/go-immutable-radix v1.3.1 // indirect
	github.com/hashicorp/go-memdb v1.3.5 // indirect
	github.com/hashicorp/golang-lru v0.5.4 // indirect
)
