# Operator commands (DESIGN.md "Operations contract"); each is also an npm script.
.PHONY: autonomy-mode smoke-90 heal exec-summary worker test start

autonomy-mode:
	npm run --silent autonomy-mode

smoke-90:
	npm run --silent smoke-90

heal:
	npm run --silent heal

exec-summary:
	npm run --silent exec-summary

worker:
	npm run --silent worker

start:
	npm start

test:
	npm test
