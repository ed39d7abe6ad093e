# The backend service on the reference Node.js image (built by `berth fixtures build --reference-stack`).
FROM berth-ref/node:18
WORKDIR /app
COPY lib/ /app/lib/
COPY backend/server.mjs /app/backend/server.mjs
USER 65534:65534
ENV PORT=8080
EXPOSE 8080
CMD ["node", "/app/backend/server.mjs"]
