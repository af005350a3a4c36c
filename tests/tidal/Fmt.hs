{-# LANGUAGE FlexibleInstances #-}
-- Prints Tidal's events as JSON lines for tests/tidal/generate.py: times as exact
-- "numerator/denominator" strings, values tagged with their Tidal type.
module Fmt (emit, emitArcs) where

import Control.Exception (SomeException, evaluate, try)
import Data.List (intercalate)
import qualified Data.Map as Map
import Data.Ratio (denominator, numerator)
import Sound.Tidal.Context

class JV a where
  jv :: a -> String

instance JV Double where jv x = "{\"f\":" ++ show x ++ "}"
instance JV Note where jv (Note x) = "{\"n\":" ++ show x ++ "}"
instance JV Int where jv x = "{\"i\":" ++ show x ++ "}"
instance JV Integer where jv x = "{\"i\":" ++ show x ++ "}"
instance JV Rational where jv x = "{\"r\":\"" ++ rat x ++ "\"}"
instance JV Bool where jv b = "{\"b\":" ++ (if b then "true" else "false") ++ "}"
instance JV [Char] where jv s = "{\"s\":" ++ show s ++ "}"
instance JV (Map.Map String Value) where
  jv m = "{\"m\":{" ++ intercalate "," [show k ++ ":" ++ tagged v | (k, v) <- Map.toList m] ++ "}}"

tagged :: Value -> String
tagged (VS s) = jv s
tagged (VF x) = jv x
tagged (VN x) = jv x
tagged (VI x) = jv x
tagged (VR x) = jv x
tagged (VB x) = jv x
tagged _ = "{\"x\":\"unsupported\"}"

rat :: Rational -> String
rat x = show (numerator x) ++ "/" ++ show (denominator x)

spanJ :: Arc -> String
spanJ (Arc b e) = "[\"" ++ rat b ++ "\",\"" ++ rat e ++ "\"]"

event :: JV a => Event a -> String
event e = "[" ++ maybe "null" spanJ (whole e) ++ "," ++ spanJ (part e) ++ "," ++ jv (Sound.Tidal.Context.value e) ++ "]"

cycleEvents :: JV a => Pattern a -> Int -> String
cycleEvents p c = "[" ++ intercalate "," (map event $ queryArc p (Arc (fromIntegral c) (fromIntegral c + 1))) ++ "]"

-- One line per case: {"id": ..., "cycles": [[events of cycle 0], ...]} or {"id": ..., "error": "..."}.
emit :: JV a => String -> Int -> Pattern a -> IO ()
emit name count p = do
  result <- try (evaluate (force' body)) :: IO (Either SomeException String)
  putStrLn $ case result of
    Right s -> "{\"id\":" ++ show name ++ ",\"cycles\":[" ++ s ++ "]}"
    Left err -> "{\"id\":" ++ show name ++ ",\"error\":" ++ show (takeWhile (/= '\n') (show err)) ++ "}"
  where body = intercalate "," [cycleEvents p c | c <- [0 .. count - 1]]
        force' s = length s `seq` s

-- Like emit, for given query spans (begin, end) instead of whole cycles.
emitArcs :: JV a => String -> [(Rational, Rational)] -> Pattern a -> IO ()
emitArcs name arcs p = do
  result <- try (evaluate (force' body)) :: IO (Either SomeException String)
  putStrLn $ case result of
    Right s -> "{\"id\":" ++ show name ++ ",\"cycles\":[" ++ s ++ "]}"
    Left err -> "{\"id\":" ++ show name ++ ",\"error\":" ++ show (takeWhile (/= '\n') (show err)) ++ "}"
  where body = intercalate "," ["[" ++ intercalate "," (map event $ queryArc p (Arc b e)) ++ "]" | (b, e) <- arcs]
        force' s = length s `seq` s
