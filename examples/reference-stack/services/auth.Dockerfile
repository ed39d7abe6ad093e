# The auth service on the reference Node.js image (built by `berth fixtures build --reference-stack`).
FROM berth-ref/node:18
WORKDIR /app
COPY lib/ /app/lib/
COPY auth/server.mjs /app/auth/server.mjs
USER 65534:65534
ENV PORT=8080
EXPOSE 8080
CMD ["node", "/app/auth/server.mjs"]
