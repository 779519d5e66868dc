--
-- PostgreSQL database dump
--

\restrict 1ecwFBeYb9Mee0lds1jB8FcORJnUpWCEg5CvQPNfDKsO96sr3d1DBSqSR4VnDyY

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: app; Type: SCHEMA; Schema: -; Owner: dbguard
--

CREATE SCHEMA app;


ALTER SCHEMA app OWNER TO dbguard;

--
-- Name: f(); Type: FUNCTION; Schema: public; Owner: dbguard
--

CREATE FUNCTION public.f() RETURNS integer
    LANGUAGE sql
    AS $$select 1$$;


ALTER FUNCTION public.f() OWNER TO dbguard;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: Weird "Name"; Type: TABLE; Schema: app; Owner: dbguard
--

CREATE TABLE app."Weird ""Name""" (
    x integer
);


ALTER TABLE app."Weird ""Name""" OWNER TO dbguard;

--
-- Name: parent; Type: TABLE; Schema: public; Owner: dbguard
--

CREATE TABLE public.parent (
    id integer
);


ALTER TABLE public.parent OWNER TO dbguard;

--
-- Name: child; Type: TABLE; Schema: public; Owner: dbguard
--

CREATE TABLE public.child (
)
INHERITS (public.parent);


ALTER TABLE public.child OWNER TO dbguard;

--
-- Name: orders; Type: TABLE; Schema: public; Owner: dbguard
--

CREATE TABLE public.orders (
    id integer,
    note text
)
PARTITION BY RANGE (id);


ALTER TABLE public.orders OWNER TO dbguard;

--
-- Name: orders_1; Type: TABLE; Schema: public; Owner: dbguard
--

CREATE TABLE public.orders_1 (
    id integer,
    note text
);


ALTER TABLE public.orders_1 OWNER TO dbguard;

--
-- Name: users; Type: TABLE; Schema: public; Owner: dbguard
--

CREATE TABLE public.users (
    id integer NOT NULL,
    name text
);


ALTER TABLE public.users OWNER TO dbguard;

--
-- Name: users_id_seq; Type: SEQUENCE; Schema: public; Owner: dbguard
--

CREATE SEQUENCE public.users_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE public.users_id_seq OWNER TO dbguard;

--
-- Name: users_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: dbguard
--

ALTER SEQUENCE public.users_id_seq OWNED BY public.users.id;


--
-- Name: orders_1; Type: TABLE ATTACH; Schema: public; Owner: dbguard
--

ALTER TABLE ONLY public.orders ATTACH PARTITION public.orders_1 FOR VALUES FROM (0) TO (100);


--
-- Name: users id; Type: DEFAULT; Schema: public; Owner: dbguard
--

ALTER TABLE ONLY public.users ALTER COLUMN id SET DEFAULT nextval('public.users_id_seq'::regclass);


--
-- Data for Name: Weird "Name"; Type: TABLE DATA; Schema: app; Owner: dbguard
--

COPY app."Weird ""Name""" (x) FROM stdin;
1
2
\.


--
-- Data for Name: child; Type: TABLE DATA; Schema: public; Owner: dbguard
--

COPY public.child (id) FROM stdin;
2
3
\.


--
-- Data for Name: orders_1; Type: TABLE DATA; Schema: public; Owner: dbguard
--

COPY public.orders_1 (id, note) FROM stdin;
1	line\nbreak
2	\\.
\.


--
-- Data for Name: parent; Type: TABLE DATA; Schema: public; Owner: dbguard
--

COPY public.parent (id) FROM stdin;
1
\.


--
-- Data for Name: users; Type: TABLE DATA; Schema: public; Owner: dbguard
--

COPY public.users (id, name) FROM stdin;
1	a
2	b\\c
3	x\ty
4	\N
\.


--
-- Name: users_id_seq; Type: SEQUENCE SET; Schema: public; Owner: dbguard
--

SELECT pg_catalog.setval('public.users_id_seq', 4, true);


--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: public; Owner: dbguard
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);


--
-- PostgreSQL database dump complete
--

\unrestrict 1ecwFBeYb9Mee0lds1jB8FcORJnUpWCEg5CvQPNfDKsO96sr3d1DBSqSR4VnDyY

